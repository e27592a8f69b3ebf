/**
 * The refresh cookie under the settings that change it: HUSH_COOKIE_SECURE=false (name
 * `hush-refresh`, no Secure), HUSH_COOKIE_SAMESITE=lax, and Max-Age as the remaining lifetime —
 * sliding with HUSH_REFRESH_TTL, capped by HUSH_SESSION_MAX; a duplicated cookie (cookie tossing)
 * refused, and the pre-fix `__Secure-hush-refresh` migrated. (The defaults are in api.test.ts,
 * server-refresh mode in server-refresh.test.ts, a real browser in test/browser/cookie-tossing.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCookieCleared,
  assertError,
  assertTokenResponse,
  cookieNamed,
  LEGACY_COOKIE,
  PLAIN_COOKIE,
  type HttpReply,
  SECURE_COOKIE,
  sleep,
  uniqueName,
  uniquePassword,
} from './helpers/http.js';
import { BASE_ENV, databases, sharedServer } from './helpers/suite.js';

const HOUR = 3600;
const XRW = { 'x-requested-with': 'XMLHttpRequest' };

/** Asserts the refusal of a duplicated cookie: 401 invalid_refresh_token saying why, no token, `name` cleared at both paths. */
function assertDuplicateRefused(reply: HttpReply, name: string): void {
  assertError(reply, 401, 'invalid_refresh_token');
  assert.match((reply.body as { error_description: string }).error_description, /more than once.*subdomain/);
  assertCookieCleared(reply, name, '/');
  assertCookieCleared(reply, name, '/auth');
  assert.equal(reply.cookies.filter((c) => c.value !== '').length, 0, 'no cookie is set, only cleared');
}

for (const { database, skip } of await databases()) {
  describe(`HUSH_COOKIE_SECURE=false and HUSH_REFRESH_TTL=1h (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_COOKIE_SECURE: 'false', HUSH_REFRESH_TTL: '1h' });

    it('names the cookie hush-refresh, without Secure, otherwise as by default', async () => {
      const reply = await shared.api.signup(uniqueName('plain'), uniquePassword());
      assertTokenResponse(reply, 201);
      assert.equal(reply.cookies.filter((c) => c.name === SECURE_COOKIE).length, 0, 'no __Secure- cookie');
      const cookie = cookieNamed(reply, PLAIN_COOKIE);
      assert.equal(cookie.attributes['secure'], undefined);
      assert.equal(cookie.attributes['httponly'], true);
      assert.equal(cookie.attributes['samesite'], 'Strict');
      assert.equal(cookie.attributes['path'], '/');
      assert.equal(cookie.attributes['domain'], undefined);
      assert.equal(cookie.attributes['max-age'], String(HOUR));
      // The pre-fix cookie of the same name sat at Path=/auth: each new cookie clears it, or the browser would send both.
      assertCookieCleared(reply, PLAIN_COOKIE, '/auth');
    });

    it('refuses a refresh carrying hush-refresh twice (it has no prefix: a sibling subdomain can toss one), clearing both paths', async () => {
      const victim = await shared.api.session(uniqueName('plaindup'), uniquePassword());
      const attacker = await shared.api.session(uniqueName('plainatk'), uniquePassword());
      const reply = await shared.api.send('POST', '/auth/refresh', {
        headers: { ...XRW, cookie: `${PLAIN_COOKIE}=${attacker.cookie}; ${PLAIN_COOKIE}=${victim.cookie}` },
      });
      assertDuplicateRefused(reply, PLAIN_COOKIE);
    });

    it('reads the refresh token from hush-refresh only', async () => {
      const session = await shared.api.session(uniqueName('plainread'), uniquePassword());
      assertTokenResponse(await shared.api.refresh(session.cookie), 200, session.username);
      const wrongName = await shared.api.send('POST', '/auth/refresh', {
        cookies: { [SECURE_COOKIE]: session.cookie },
        headers: { 'x-requested-with': 'XMLHttpRequest' },
      });
      assertError(wrongName, 401, 'invalid_refresh_token');
      assertCookieCleared(wrongName, PLAIN_COOKIE);
    });

    it('clears hush-refresh on logout', async () => {
      const session = await shared.api.session(uniqueName('plainout'), uniquePassword());
      const reply = await shared.api.logout(session.cookie);
      assert.equal(reply.status, 204);
      assertCookieCleared(reply, PLAIN_COOKIE);
      assert.equal(cookieNamed(reply, PLAIN_COOKIE).attributes['secure'], undefined);
    });

    it('slides: a refresh a moment later sets Max-Age to the whole refresh TTL again', async () => {
      const session = await shared.api.session(uniqueName('slide'), uniquePassword());
      await sleep(1500);
      const reply = await shared.api.refresh(session.cookie);
      assertTokenResponse(reply, 200);
      assert.equal(cookieNamed(reply, PLAIN_COOKIE).attributes['max-age'], String(HOUR));
    });
  });

  describe(`HUSH_COOKIE_SAMESITE=lax and HUSH_SESSION_MAX=1h (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_COOKIE_SAMESITE: 'lax', HUSH_REFRESH_TTL: '1h', HUSH_SESSION_MAX: '1h' });

    it('sets SameSite=Lax, keeping the __Host- name, Secure, HttpOnly and Path=/', async () => {
      const reply = await shared.api.signup(uniqueName('lax'), uniquePassword());
      assertTokenResponse(reply, 201);
      const cookie = cookieNamed(reply, SECURE_COOKIE);
      assert.equal(cookie.attributes['samesite'], 'Lax');
      assert.equal(cookie.attributes['secure'], true);
      assert.equal(cookie.attributes['httponly'], true);
      assert.equal(cookie.attributes['path'], '/');
      assert.equal(cookie.attributes['max-age'], String(HOUR));
    });

    it('clears the cookie with SameSite=Lax too', async () => {
      const reply = await shared.api.logout(undefined);
      assert.equal(reply.status, 204);
      assertCookieCleared(reply, SECURE_COOKIE);
      assert.equal(cookieNamed(reply, SECURE_COOKIE).attributes['samesite'], 'Lax');
    });

    it('caps the sliding lifetime at the session maximum: Max-Age is what remains of it', async () => {
      const session = await shared.api.session(uniqueName('capped'), uniquePassword());
      await sleep(1500);
      const reply = await shared.api.refresh(session.cookie);
      assertTokenResponse(reply, 200);
      const maxAge = Number(cookieNamed(reply, SECURE_COOKIE).attributes['max-age']);
      assert.ok(maxAge < HOUR && maxAge >= HOUR - 5, `Max-Age ${maxAge} is the remaining session lifetime`);
    });
  });
  describe(`a duplicated refresh cookie, and the pre-fix __Secure-hush-refresh (${database})`, { skip }, () => {
    const shared = sharedServer(database);

    /** A cookie-authenticated POST with this exact Cookie header. */
    const withCookieHeader = (path: string, cookie: string): Promise<HttpReply> => shared.api.send('POST', path, { headers: { ...XRW, cookie } });

    it('refuses a refresh whose Cookie header carries __Host-hush-refresh twice, in either order: 401 invalid_refresh_token, cleared at Path=/ and Path=/auth, nobody signed in', async () => {
      const victim = await shared.api.session(uniqueName('dupvictim'), uniquePassword());
      const attacker = await shared.api.session(uniqueName('dupattacker'), uniquePassword());
      for (const header of [
        `${SECURE_COOKIE}=${attacker.cookie}; ${SECURE_COOKIE}=${victim.cookie}`,
        `${SECURE_COOKIE}=${victim.cookie}; other=1; ${SECURE_COOKIE}=${attacker.cookie}`,
        `${SECURE_COOKIE}=${victim.cookie}; ${SECURE_COOKIE}=${victim.cookie}`,
      ]) {
        const reply = await withCookieHeader('/auth/refresh', header);
        assertDuplicateRefused(reply, SECURE_COOKIE);
        assert.equal(reply.headers.get('x-access-token'), null);
      }
      // Refused, not revoked: the victim's own cookie, alone again, refreshes as the victim.
      assertTokenResponse(await shared.api.refresh(victim.cookie), 200, victim.username);
    });

    it('refuses a logout whose Cookie header carries the name twice the same way', async () => {
      const victim = await shared.api.session(uniqueName('duplogout'), uniquePassword());
      const attacker = await shared.api.session(uniqueName('duplogoutatk'), uniquePassword());
      const reply = await withCookieHeader('/auth/logout', `${SECURE_COOKIE}=${attacker.cookie}; ${SECURE_COOKIE}=${victim.cookie}`);
      assertDuplicateRefused(reply, SECURE_COOKIE);
    });

    it('refuses two pre-fix cookies (without a new one) the same way', async () => {
      const victim = await shared.api.session(uniqueName('duplegacy'), uniquePassword());
      const attacker = await shared.api.session(uniqueName('duplegacyatk'), uniquePassword());
      const reply = await withCookieHeader('/auth/refresh', `${LEGACY_COOKIE}=${attacker.cookie}; ${LEGACY_COOKIE}=${victim.cookie}`);
      assertDuplicateRefused(reply, SECURE_COOKIE);
      assertCookieCleared(reply, LEGACY_COOKIE, '/auth');
      assertCookieCleared(reply, LEGACY_COOKIE, '/');
    });

    it('migrates: a refresh presenting only the pre-fix cookie is served, answered with the new cookie, and the old one cleared at Path=/auth and Path=/', async () => {
      const session = await shared.api.session(uniqueName('migrate'), uniquePassword());
      const reply = await withCookieHeader('/auth/refresh', `${LEGACY_COOKIE}=${session.cookie}`);
      assertTokenResponse(reply, 200, session.username);
      const fresh = cookieNamed(reply, SECURE_COOKIE);
      assert.ok(fresh.value.length > 0);
      assert.equal(fresh.attributes['path'], '/');
      assert.equal(fresh.attributes['secure'], true);
      assertCookieCleared(reply, LEGACY_COOKIE, '/auth');
      assertCookieCleared(reply, LEGACY_COOKIE, '/');
      assertTokenResponse(await shared.api.refresh(fresh.value), 200, session.username);
    });

    it('prefers the new cookie when both are sent, and clears the old one', async () => {
      const session = await shared.api.session(uniqueName('both'), uniquePassword());
      const other = await shared.api.session(uniqueName('bothother'), uniquePassword());
      const reply = await withCookieHeader('/auth/refresh', `${LEGACY_COOKIE}=${other.cookie}; ${SECURE_COOKIE}=${session.cookie}`);
      assertTokenResponse(reply, 200, session.username);
      assertCookieCleared(reply, LEGACY_COOKIE, '/auth');
    });

    it('clears the pre-fix cookie on logout too, and on a refresh that fails', async () => {
      const session = await shared.api.session(uniqueName('legacyout'), uniquePassword());
      const logout = await withCookieHeader('/auth/logout', `${LEGACY_COOKIE}=${session.cookie}`);
      assert.equal(logout.status, 204);
      assertCookieCleared(logout, SECURE_COOKIE, '/');
      assertCookieCleared(logout, LEGACY_COOKIE, '/auth');
      assertCookieCleared(logout, LEGACY_COOKIE, '/');
      const dead = await withCookieHeader('/auth/refresh', `${LEGACY_COOKIE}=not.a.token`);
      assertError(dead, 401, 'invalid_refresh_token');
      assertCookieCleared(dead, LEGACY_COOKIE, '/auth');
      assertCookieCleared(dead, LEGACY_COOKIE, '/');
    });
  });
}
