/**
 * Credential events end sessions, as the contract's Tokens section says: logout-all, password
 * change, account deletion and suspension (through the `hush` CLI) end every refresh token of the
 * user at once and the user's access tokens within 2 s; the token a request returns stays valid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/server.js';
import {
  assertCookieCleared,
  assertError,
  assertNoCookie,
  assertTokenResponse,
  cookieNamed,
  decodeJwt,
  eventually,
  SECURE_COOKIE,
  uniqueName,
  uniquePassword,
  type Api,
  type HttpReply,
} from './helpers/http.js';
import { databases, sharedServer } from './helpers/suite.js';

/** How soon every instance must refuse a revoked access token. */
const REVOCATION_DEADLINE_MS = 2000;

/** Asserts a 401 `invalid_token` with its RFC 6750 challenge. */
function assertInvalidToken(reply: HttpReply): void {
  assertError(reply, 401, 'invalid_token');
  const challenge = reply.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer realm="hush"/);
  assert.match(challenge, /error="invalid_token"/);
}

/** Waits (at most the contract's 2 s) until `token` is refused by /api/private, then checks the answer. */
async function refusedWithinDeadline(api: Api, token: string, what: string): Promise<void> {
  await eventually(async () => (await api.private(token)).status === 401, REVOCATION_DEADLINE_MS, what);
  assertInvalidToken(await api.private(token));
  assertInvalidToken(await api.me(token));
}

for (const { database, skip } of await databases()) {
  describe(`credential events (${database})`, { skip }, () => {
    const shared = sharedServer(database);

    describe('logout-all', () => {
      it("ends every refresh token of the user, and only that user's", async () => {
        const username = uniqueName('la');
        const password = uniquePassword();
        const a = await shared.api.session(username, password);
        const b = await shared.api.session(username, password, 'login');
        const other = await shared.api.session(uniqueName('la-other'), uniquePassword());
        assert.equal((await shared.api.logoutAll(a.token)).status, 204);
        for (const cookie of [a.cookie, b.cookie]) {
          const reply = await shared.api.refresh(cookie);
          assertError(reply, 401, 'invalid_refresh_token');
          assertCookieCleared(reply, SECURE_COOKIE);
        }
        assertTokenResponse(await shared.api.refresh(other.cookie), 200, other.username);
        assert.equal((await shared.api.private(other.token)).status, 200);
      });

      it("refuses the user's access tokens within 2 s, the one that asked included", async () => {
        const username = uniqueName('la-at');
        const password = uniquePassword();
        const a = await shared.api.session(username, password);
        const b = await shared.api.session(username, password, 'login');
        assert.equal((await shared.api.logoutAll(a.token)).status, 204);
        await refusedWithinDeadline(shared.api, a.token, 'the token that logged out everywhere');
        await refusedWithinDeadline(shared.api, b.token, "the other session's token");
      });

      it('lets the user sign in again afterwards', async () => {
        const username = uniqueName('la-again');
        const password = uniquePassword();
        const a = await shared.api.session(username, password);
        assert.equal((await shared.api.logoutAll(a.token)).status, 204);
        const again = await shared.api.session(username, password, 'login');
        assert.equal((await shared.api.private(again.token)).status, 200);
        assertTokenResponse(await shared.api.refresh(again.cookie), 200, username);
      });
    });

    describe('password change', () => {
      it('answers 200 with a token response and a new refresh cookie', async () => {
        const session = await shared.api.session(uniqueName('pw'), uniquePassword());
        const reply = await shared.api.changePassword(session.token, session.password, uniquePassword());
        const body = assertTokenResponse(reply, 200, session.username);
        assert.equal(body.user.id, session.user.id);
        const cookie = cookieNamed(reply, SECURE_COOKIE);
        assert.notEqual(cookie.value, session.cookie);
        assert.equal(cookie.attributes['httponly'], true);
        assert.equal(cookie.attributes['secure'], true);
        assert.equal(cookie.attributes['samesite'], 'Strict');
        assert.equal(cookie.attributes['path'], '/');
      });

      it("ends the other sessions' refresh while the changing session refreshes on", async () => {
        const username = uniqueName('pw-sessions');
        const password = uniquePassword();
        const changing = await shared.api.session(username, password);
        const other = await shared.api.session(username, password, 'login');
        const reply = await shared.api.changePassword(changing.token, password, uniquePassword());
        const next = shared.api.sessionFrom(reply, username, password);
        assertError(await shared.api.refresh(other.cookie), 401, 'invalid_refresh_token');
        assertError(await shared.api.refresh(changing.cookie), 401, 'invalid_refresh_token');
        const refreshed = assertTokenResponse(await shared.api.refresh(next.cookie), 200, username);
        assert.equal(decodeJwt(refreshed.access_token).payload['sid'], decodeJwt(changing.token).payload['sid'], 'the same session goes on');
      });

      it("refuses the user's older access tokens within 2 s while the returned one works", async () => {
        const username = uniqueName('pw-tokens');
        const password = uniquePassword();
        const changing = await shared.api.session(username, password);
        const other = await shared.api.session(username, password, 'login');
        const reply = await shared.api.changePassword(changing.token, password, uniquePassword());
        const fresh = assertTokenResponse(reply, 200, username).access_token;
        await refusedWithinDeadline(shared.api, changing.token, 'the token that changed the password');
        await refusedWithinDeadline(shared.api, other.token, "the other session's token");
        assert.equal((await shared.api.private(fresh)).status, 200);
        assert.equal((await shared.api.me(fresh)).status, 200);
      });

      it('replaces the password: the old one no longer logs in, the new one does', async () => {
        const username = uniqueName('pw-login');
        const password = uniquePassword();
        const next = uniquePassword();
        const session = await shared.api.session(username, password);
        assertTokenResponse(await shared.api.changePassword(session.token, password, next), 200);
        assertError(await shared.api.login(username, password), 401, 'invalid_credentials');
        assertTokenResponse(await shared.api.login(username, next), 200, username);
      });

      it('answers a wrong current password with 403 invalid_credentials and changes nothing', async () => {
        const username = uniqueName('pw-wrong');
        const password = uniquePassword();
        const session = await shared.api.session(username, password);
        const other = await shared.api.session(username, password, 'login');
        const next = uniquePassword();
        const reply = await shared.api.changePassword(session.token, 'not the password', next);
        assertError(reply, 403, 'invalid_credentials');
        assertNoCookie(reply);
        assertTokenResponse(await shared.api.refresh(other.cookie), 200, username);
        assertTokenResponse(await shared.api.refresh(session.cookie), 200, username);
        assert.equal((await shared.api.private(session.token)).status, 200);
        assertTokenResponse(await shared.api.login(username, password), 200, username);
        assertError(await shared.api.login(username, next), 401, 'invalid_credentials');
      });

      it('answers a new password out of bounds with 400 invalid_request and changes nothing', async () => {
        const username = uniqueName('pw-bounds');
        const password = uniquePassword();
        const session = await shared.api.session(username, password);
        for (const next of ['short', 'x'.repeat(1025)]) {
          assertError(await shared.api.changePassword(session.token, password, next), 400, 'invalid_request');
        }
        assertTokenResponse(await shared.api.refresh(session.cookie), 200, username);
        assertTokenResponse(await shared.api.login(username, password), 200, username);
      });

      it('needs a Bearer token: 401 missing_token without one', async () => {
        const reply = await shared.api.send('POST', '/auth/password', { json: { currentPassword: 'whatever1', newPassword: 'whatever2' } });
        assertError(reply, 401, 'missing_token');
      });
    });

    describe('account deletion (DELETE /auth/me)', () => {
      it('answers a wrong password with 403 invalid_credentials and keeps the account', async () => {
        const username = uniqueName('del-wrong');
        const password = uniquePassword();
        const session = await shared.api.session(username, password);
        assertError(await shared.api.deleteMe(session.token, 'not the password'), 403, 'invalid_credentials');
        assert.equal((await shared.api.me(session.token)).status, 200);
        assertTokenResponse(await shared.api.refresh(session.cookie), 200, username);
        assertTokenResponse(await shared.api.login(username, password), 200, username);
      });

      it('answers 204, then the tokens are refused, refresh fails and login is 401', async () => {
        const username = uniqueName('del');
        const password = uniquePassword();
        const session = await shared.api.session(username, password);
        const other = await shared.api.session(username, password, 'login');
        const reply = await shared.api.deleteMe(session.token, password);
        assert.equal(reply.status, 204);
        assert.equal(reply.text, '');
        await refusedWithinDeadline(shared.api, session.token, 'the token that deleted the account');
        await refusedWithinDeadline(shared.api, other.token, "another session's token");
        for (const cookie of [session.cookie, other.cookie]) {
          const refresh = await shared.api.refresh(cookie);
          assertError(refresh, 401, 'invalid_refresh_token');
          assertCookieCleared(refresh, SECURE_COOKIE);
        }
        assertError(await shared.api.login(username, password), 401, 'invalid_credentials');
      });

      it('frees the username for a new account with a new id, which the old tokens cannot reach', async () => {
        const username = uniqueName('del-reuse');
        const password = uniquePassword();
        const old = await shared.api.session(username, password);
        assert.equal((await shared.api.deleteMe(old.token, password)).status, 204);
        const fresh = await shared.api.session(username, password);
        assert.notEqual(fresh.user.id, old.user.id, 'user ids are never reused');
        assertInvalidToken(await shared.api.me(old.token));
        assertError(await shared.api.refresh(old.cookie), 401, 'invalid_refresh_token');
        assert.deepEqual((await shared.api.me(fresh.token)).body, { user: { id: fresh.user.id, username } });
      });

      it('needs a Bearer token: 401 missing_token without one', async () => {
        assertError(await shared.api.send('DELETE', '/auth/me', { json: { password: 'whatever1' } }), 401, 'missing_token');
      });
    });

    describe('suspension through the hush CLI', () => {
      it('`hush user suspend` ends refresh at once and access tokens within 2 s; login is 403 account_suspended', async () => {
        const username = uniqueName('suspend');
        const password = uniquePassword();
        const a = await shared.api.session(username, password);
        const b = await shared.api.session(username, password, 'login');
        const bystander = await shared.api.session(uniqueName('bystander'), uniquePassword());

        const cli = await runCli(['user', 'suspend', username], { env: shared.server.env });
        assert.equal(cli.code, 0, cli.stderr);
        const suspendedAt = Date.now();

        for (const cookie of [a.cookie, b.cookie]) {
          const reply = await shared.api.refresh(cookie);
          assertError(reply, 401, 'invalid_refresh_token');
          assertCookieCleared(reply, SECURE_COOKIE);
        }
        await eventually(async () => (await shared.api.private(a.token)).status === 401, REVOCATION_DEADLINE_MS - (Date.now() - suspendedAt), 'refusing the access token after suspension');
        assertInvalidToken(await shared.api.private(a.token));
        assertInvalidToken(await shared.api.private(b.token));

        const login = await shared.api.login(username, password);
        assertError(login, 403, 'account_suspended');
        assertNoCookie(login);
        // A guesser learns nothing about the suspension.
        assertError(await shared.api.login(username, 'not the password'), 401, 'invalid_credentials');

        assert.equal((await shared.api.private(bystander.token)).status, 200);
        assertTokenResponse(await shared.api.refresh(bystander.cookie), 200);

        // Unsuspending lets the user sign in again but revives none of the old tokens.
        const lift = await runCli(['user', 'unsuspend', username], { env: shared.server.env });
        assert.equal(lift.code, 0, lift.stderr);
        assertError(await shared.api.refresh(a.cookie), 401, 'invalid_refresh_token');
        assertError(await shared.api.refresh(b.cookie), 401, 'invalid_refresh_token');
        assertInvalidToken(await shared.api.private(a.token));
        const again = await shared.api.session(username, password, 'login');
        assert.equal((await shared.api.private(again.token)).status, 200);
        assertTokenResponse(await shared.api.refresh(again.cookie), 200, username);
      });
    });

    describe('token confusion', () => {
      it('refuses a refresh token presented as an access token with 401 invalid_token', async () => {
        const session = await shared.api.session(uniqueName('rt-as-at'), uniquePassword());
        for (const path of ['/api/private', '/auth/me']) {
          assertInvalidToken(await shared.api.send('GET', path, { token: session.cookie }));
        }
        assertInvalidToken(await shared.api.send('POST', '/auth/logout-all', { token: session.cookie }));
        assertTokenResponse(await shared.api.refresh(session.cookie), 200, session.username);
      });

      it('refuses an access token presented as the refresh cookie with 401 invalid_refresh_token', async () => {
        const session = await shared.api.session(uniqueName('at-as-rt'), uniquePassword());
        const reply = await shared.api.refresh(session.token);
        assertError(reply, 401, 'invalid_refresh_token');
        assertCookieCleared(reply, SECURE_COOKIE);
        assert.equal((await shared.api.private(session.token)).status, 200);
      });
    });
  });
}
