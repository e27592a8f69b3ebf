import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken } from './bearer.js';

describe('bearerToken', () => {
  it('returns the token of "Bearer <token>"', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  });

  it('matches the scheme in any case and tolerates extra spaces around the token', () => {
    assert.equal(bearerToken('bearer abc'), 'abc');
    assert.equal(bearerToken('BEARER abc'), 'abc');
    assert.equal(bearerToken('Bearer    abc  '), 'abc');
  });

  it('accepts every b64token character and trailing padding', () => {
    assert.equal(bearerToken('Bearer aZ09-._~+/=='), 'aZ09-._~+/==');
  });

  it('treats an absent header, another scheme or a bare scheme as no token', () => {
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer    ', 'Bearerabc', 'Token abc', 'Bearer\tabc', 'xBearer abc']) {
      assert.equal(bearerToken(header), undefined, JSON.stringify(header));
    }
  });

  it('treats a value that is not a single b64token as no token', () => {
    for (const header of ['Bearer a b', 'Bearer a,b', 'Bearer a=b', 'Bearer =abc', 'Bearer abc\u00e9', 'Bearer a"b', 'Bearer abc, Basic x']) {
      assert.equal(bearerToken(header), undefined, JSON.stringify(header));
    }
  });

  it('does not confuse look-alike letters with the scheme name', () => {
    // `| 0x20` maps '@' (0x40) onto '`' (0x60), never onto a letter of "bearer".
    assert.equal(bearerToken('BEARE@ abc'), undefined);
    assert.equal(bearerToken('Bearez abc'), undefined);
  });
});
