import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, createAuthClient } from './index.js';
import { installEnv } from './test-env.js';

describe('AuthError', () => {
  it('names CORS and HUSH_ALLOWED_ORIGINS as the likely cause of a network_error', () => {
    const error = new AuthError(0, 'network_error');
    assert.match(error.message, /could not be reached/);
    assert.match(error.message, /CORS/);
    assert.match(error.message, /HUSH_ALLOWED_ORIGINS/);
  });

  it('keeps the message it is given, and the code when it is given none', () => {
    assert.equal(new AuthError(401, 'invalid_credentials', 'Wrong username or password').message, 'Wrong username or password');
    assert.equal(new AuthError(500, 'http_500').message, 'http_500');
  });

  it('a login the browser could not send (as a CORS refusal looks to a page) rejects with that hint', async (t) => {
    const env = installEnv(t);
    // a cross-origin page without CORS permission sees exactly this: fetch rejects with a bare TypeError
    env.server.routes.set('POST /auth/login', () => Promise.reject(new TypeError('Failed to fetch')));
    const auth = createAuthClient();
    await auth.ready;
    await assert.rejects(auth.login('alice', 'correct horse battery'), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.code, 'network_error');
      assert.equal(error.status, 0);
      assert.match(error.message, /CORS.*HUSH_ALLOWED_ORIGINS/);
      return true;
    });
  });
});
