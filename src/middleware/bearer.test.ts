import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerCandidate, bearerToken, isB64Token } from './bearer.js';

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

describe('bearerCandidate and isB64Token', () => {
  it('find the token without reading its characters, and check them apart', () => {
    assert.equal(bearerCandidate('Bearer   a b  '), 'a b');
    assert.equal(isB64Token('a b'), false);
    assert.equal(bearerCandidate('Bearer abc.def'), 'abc.def');
    assert.equal(isB64Token('abc.def'), true);
    assert.equal(isB64Token('abc=='), true);
    assert.equal(isB64Token('=='), false);
    assert.equal(isB64Token(''), false);
  });

  it('give no candidate for another scheme or an empty value', () => {
    for (const header of [undefined, 'Basic abc', 'Bearer', 'Bearer    ', 'Bearerabc', 'Bearer\tabc']) {
      assert.equal(bearerCandidate(header), undefined, String(header));
    }
  });

  it('agree with bearerToken on every header of the suite above', () => {
    for (const header of ['Bearer abc', 'bearer  abc  ', 'Bearer a b', 'Bearer a=b', 'Bearer =abc', 'Bearer abc, Basic x', 'Bearer aZ09-._~+/==']) {
      const candidate = bearerCandidate(header);
      assert.equal(candidate !== undefined && isB64Token(candidate) ? candidate : undefined, bearerToken(header), header);
    }
  });
});
