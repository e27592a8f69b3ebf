import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError } from './errors.js';
import { RefreshTokenCodec } from './refresh-tokens.js';

const user = { id: '6f1d1c7e-2b1e-4f57-9f0e-1f1a3c1d2e4f', salt: 'c2FsdHNhbHRzYWx0', credentialVersion: 1 };
const codec = new RefreshTokenCodec('refresh-secret-refresh-secret-refresh-secret');
const claims = { sub: user.id, sid: 'sid1', n: 1 };

const refused = (fn: () => unknown): void =>
  assert.throws(fn, (e: unknown) => e instanceof AuthError && e.code === 'invalid_refresh_token');

describe('refresh-token codec', () => {
  it('verifies a token under the credential state it was signed for, and names its subject unverified', () => {
    const token = codec.sign(user, 'test+jwt', claims);
    assert.equal(codec.peekSubject(token), user.id);
    assert.deepEqual(codec.verify(token, user, 'test+jwt'), claims);
  });

  it('is deterministic, so a token can be recomputed byte for byte', () => {
    assert.equal(codec.sign(user, 'test+jwt', claims), codec.sign(user, 'test+jwt', claims));
  });

  it('refuses the token once the credential version is bumped', () => {
    refused(() => codec.verify(codec.sign(user, 'test+jwt', claims), { ...user, credentialVersion: 2 }, 'test+jwt'));
  });

  it('binds the key to the per-user salt and to the server secret', () => {
    const token = codec.sign(user, 'test+jwt', claims);
    refused(() => codec.verify(token, { ...user, salt: 'b3RoZXJzYWx0' }, 'test+jwt'));
    refused(() => new RefreshTokenCodec('another-refresh-secret-another-refresh-secret').verify(token, user, 'test+jwt'));
  });

  it('refuses a token of another type', () => {
    refused(() => codec.verify(codec.sign(user, 'test+jwt', claims), user, 'other+jwt'));
  });

  it('refuses an expired token', () => {
    refused(() => codec.verify(codec.sign(user, 'test+jwt', { ...claims, exp: Math.floor(Date.now() / 1000) - 1 }), user, 'test+jwt'));
  });

  it("refuses a token whose subject is not the user's, even with a valid signature", () => {
    refused(() => codec.verify(codec.sign(user, 'test+jwt', { ...claims, sub: 'someone-else' }), user, 'test+jwt'));
  });

  it('names no subject for anything that is not a token', () => {
    for (const junk of ['', 'not.a.token', 'a.b', '....', 'e30.e30.x']) assert.equal(codec.peekSubject(junk), undefined);
  });
});
