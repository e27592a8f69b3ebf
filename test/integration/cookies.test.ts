/**
 * The refresh cookie under the settings that change it: HUSH_COOKIE_SECURE=false (name
 * `hush-refresh`, no Secure), HUSH_COOKIE_SAMESITE=lax, and Max-Age as the remaining lifetime —
 * sliding with HUSH_REFRESH_TTL, capped by HUSH_SESSION_MAX. (The defaults are in api.test.ts,
 * Path=/ of server-refresh mode in server-refresh.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCookieCleared,
  assertError,
  assertTokenResponse,
  cookieNamed,
  PLAIN_COOKIE,
  SECURE_COOKIE,
  sleep,
  uniqueName,
  uniquePassword,
} from './helpers/http.js';
import { BASE_ENV, databases, sharedServer } from './helpers/suite.js';

const HOUR = 3600;

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
      assert.equal(cookie.attributes['path'], '/auth');
      assert.equal(cookie.attributes['max-age'], String(HOUR));
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

    it('sets SameSite=Lax, keeping the __Secure- name, Secure, HttpOnly and Path=/auth', async () => {
      const reply = await shared.api.signup(uniqueName('lax'), uniquePassword());
      assertTokenResponse(reply, 201);
      const cookie = cookieNamed(reply, SECURE_COOKIE);
      assert.equal(cookie.attributes['samesite'], 'Lax');
      assert.equal(cookie.attributes['secure'], true);
      assert.equal(cookie.attributes['httponly'], true);
      assert.equal(cookie.attributes['path'], '/auth');
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
}
