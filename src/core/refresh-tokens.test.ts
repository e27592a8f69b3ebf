import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError } from './errors.js';
import { RefreshTokens } from './refresh-tokens.js';

const user = { id: '6f1d1c7e-2b1e-4f57-9f0e-1f1a3c1d2e4f', salt: 'c2FsdHNhbHRzYWx0', credentialVersion: 1 };
const now = Math.floor(Date.now() / 1000);
const claims = { sub: user.id, sid: 'sid1', auth_time: now, iat: now, exp: now + 60 };
const tokens = new RefreshTokens('refresh-secret-refresh-secret-refresh-secret');

const refused = (fn: () => unknown): void =>
  assert.throws(fn, (e: unknown) => e instanceof AuthError && e.code === 'invalid_refresh_token');

describe('stateless refresh tokens', () => {
  it('verify under the credential state they were issued for', () => {
    const token = tokens.issue(user, claims);
    assert.equal(tokens.peekSubject(token), user.id);
    assert.deepEqual(tokens.verify(token, user), claims);
  });

  it('stop verifying once the credential version is bumped', () => {
    const token = tokens.issue(user, claims);
    refused(() => tokens.verify(token, { ...user, credentialVersion: 2 }));
  });

  it('are bound to the per-user salt and to the server secret', () => {
    const token = tokens.issue(user, claims);
    refused(() => tokens.verify(token, { ...user, salt: 'b3RoZXJzYWx0' }));
    refused(() => new RefreshTokens('another-refresh-secret-another-refresh-secret').verify(token, user));
  });

  it('are refused once expired', () => {
    const clock = () => (now + 61) * 1000;
    const token = tokens.issue(user, claims);
    refused(() => new RefreshTokens('refresh-secret-refresh-secret-refresh-secret', clock).verify(token, user));
  });

  it('are refused for another user even with a valid signature', () => {
    const other = { ...user, id: 'a0000000-0000-4000-8000-000000000000' };
    const token = tokens.issue(other, { ...claims, sub: user.id });
    refused(() => tokens.verify(token, other));
  });

  it('do not reveal a subject for anything that is not one of them', () => {
    assert.equal(tokens.peekSubject('not.a.token'), undefined);
    assert.equal(tokens.peekSubject(''), undefined);
  });
});
