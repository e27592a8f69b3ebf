/**
 * Server-side silent refresh (HUSH_SERVER_REFRESH=on): a same-origin GET or HEAD of a protected
 * route with only the refresh cookie (or an expired Bearer token) is authorized by the cookie and
 * answered with a new access token in `x-access-token`; anything else gets its usual 401.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCookieCleared,
  assertError,
  assertNoCookie,
  assertTokenResponse,
  cookieNamed,
  decodeJwt,
  forgeFrom,
  LEGACY_COOKIE,
  SECURE_COOKIE,
  uniqueName,
  uniquePassword,
  type HttpReply,
  type Session,
} from './helpers/http.js';
import { BASE_ENV, databases, sharedServer, TEST_SECRET } from './helpers/suite.js';

const APP = 'http://app.localhost:5173';

for (const { database, skip } of await databases()) {
  describe(`server-side silent refresh (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_SERVER_REFRESH: 'on', HUSH_ALLOWED_ORIGINS: APP });
    const own = (): string => new URL(shared.server.url).origin;

    /** A GET (or HEAD) carrying only the refresh cookie, plus `headers`. */
    const cookieOnly = (session: Session, headers: Record<string, string>, path = '/api/private', method = 'GET'): Promise<HttpReply> =>
      shared.api.send(method, path, { cookies: shared.api.cookieJar(session.cookie), headers });

    /** Asserts the request was authorized by the cookie: a new token, no-store, a new cookie. */
    async function assertRefreshedOnServer(reply: HttpReply, session: Session): Promise<string> {
      assert.equal(reply.status, 200, reply.text);
      const token = reply.headers.get('x-access-token');
      assert.ok(token, 'x-access-token is set');
      assert.notEqual(token, session.token);
      assert.equal(decodeJwt(token).payload['sub'], session.user.id);
      assert.match(reply.headers.get('cache-control') ?? '', /\bno-store\b/);
      const cookie = cookieNamed(reply, SECURE_COOKIE);
      assert.ok(cookie.value.length > 0);
      assert.equal(cookie.attributes['path'], '/');
      assert.equal(cookie.attributes['httponly'], true);
      assert.equal(cookie.attributes['secure'], true);
      assert.equal(cookie.attributes['samesite'], 'Strict');
      assert.equal((await shared.api.private(token)).status, 200, 'the new access token works');
      assertTokenResponse(await shared.api.refresh(cookie.value), 200, session.username);
      return token;
    }

    /** Asserts the usual 401 of a request without a token, and that nothing was issued. */
    function assertNotRefreshed(reply: HttpReply, code = 'missing_token'): void {
      assertError(reply, 401, code);
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer realm="hush"/);
      assert.equal(reply.headers.get('x-access-token'), null);
      assertNoCookie(reply);
    }

    it('scopes the refresh cookie to Path=/ (set on signup and refresh, cleared on logout)', async () => {
      const signup = await shared.api.signup(uniqueName('path'), uniquePassword());
      assertTokenResponse(signup, 201);
      const cookie = cookieNamed(signup, SECURE_COOKIE);
      assert.equal(cookie.attributes['path'], '/');
      assert.equal(cookie.attributes['httponly'], true);
      assert.equal(cookie.attributes['secure'], true);
      assert.equal(cookie.attributes['samesite'], 'Strict');
      const refresh = await shared.api.refresh(cookie.value);
      assert.equal(cookieNamed(refresh, SECURE_COOKIE).attributes['path'], '/');
      const logout = await shared.api.logout(cookie.value);
      assert.equal(logout.status, 204);
      assertCookieCleared(logout, SECURE_COOKIE, '/');
    });

    it('answers a same-origin GET of /api/private with only the cookie: 200, x-access-token, no-store, a new cookie', async () => {
      const session = await shared.api.session(uniqueName('sameorigin'), uniquePassword());
      const reply = await cookieOnly(session, { 'sec-fetch-site': 'same-origin' });
      await assertRefreshedOnServer(reply, session);
      assert.deepEqual((reply.body as { user: unknown }).user, session.user);
    });

    it('accepts Sec-Fetch-Site: none (a typed URL or bookmark)', async () => {
      const session = await shared.api.session(uniqueName('none'), uniquePassword());
      await assertRefreshedOnServer(await cookieOnly(session, { 'sec-fetch-site': 'none' }), session);
    });

    it('without Sec-Fetch-Site, accepts an allowed or own Origin, or X-Requested-With', async () => {
      const variants: Array<() => Record<string, string>> = [() => ({ origin: APP }), () => ({ origin: own() }), () => ({ 'x-requested-with': 'XMLHttpRequest' })];
      for (const headers of variants) {
        const session = await shared.api.session(uniqueName('nosecfetch'), uniquePassword());
        await assertRefreshedOnServer(await cookieOnly(session, headers()), session);
      }
    });

    it('guards GET /auth/me the same way', async () => {
      const session = await shared.api.session(uniqueName('me'), uniquePassword());
      const reply = await cookieOnly(session, { 'sec-fetch-site': 'same-origin' }, '/auth/me');
      await assertRefreshedOnServer(reply, session);
      assert.deepEqual(reply.body, { user: session.user });
    });

    it('answers HEAD like GET', async () => {
      const session = await shared.api.session(uniqueName('head'), uniquePassword());
      await assertRefreshedOnServer(await cookieOnly(session, { 'sec-fetch-site': 'same-origin' }, '/api/private', 'HEAD'), session);
    });

    it('authorizes a same-origin GET with an expired Bearer token and the cookie', async () => {
      const session = await shared.api.session(uniqueName('expired'), uniquePassword());
      const t = Math.floor(Date.now() / 1000);
      const expired = forgeFrom(session.token, { iat: t - 900, exp: t - 300 }, TEST_SECRET);
      assertError(await shared.api.private(expired), 401, 'invalid_token');
      const reply = await shared.api.send('GET', '/api/private', {
        token: expired,
        cookies: shared.api.cookieJar(session.cookie),
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      await assertRefreshedOnServer(reply, session);
    });

    it('uses a valid Bearer token as it is: no refresh, no x-access-token, no cookie', async () => {
      const session = await shared.api.session(uniqueName('valid'), uniquePassword());
      const reply = await shared.api.send('GET', '/api/private', {
        token: session.token,
        cookies: shared.api.cookieJar(session.cookie),
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get('x-access-token'), null);
      assertNoCookie(reply);
    });

    it('does not step in for an invalid (not expired) Bearer token', async () => {
      const session = await shared.api.session(uniqueName('tampered'), uniquePassword());
      const forged = forgeFrom(session.token, {}, 'not-the-server-secret-0123456789-abcdefgh');
      const reply = await shared.api.send('GET', '/api/private', {
        token: forged,
        cookies: shared.api.cookieJar(session.cookie),
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      assertNotRefreshed(reply, 'invalid_token');
      assert.match(reply.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });

    it('refuses a cookie-only GET without any of Sec-Fetch-Site, Origin and X-Requested-With', async () => {
      const session = await shared.api.session(uniqueName('bare'), uniquePassword());
      assertNotRefreshed(await cookieOnly(session, {}));
    });

    it('refuses cross-site and same-site GETs, and foreign or null Origins', async () => {
      const session = await shared.api.session(uniqueName('crosssite'), uniquePassword());
      const variants: Array<Record<string, string>> = [
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'cross-site', 'x-requested-with': 'XMLHttpRequest' },
        { 'sec-fetch-site': 'cross-site', origin: APP },
        { 'sec-fetch-site': 'same-site' },
        { origin: 'https://evil.example' },
        { origin: 'null' },
      ];
      for (const headers of variants) {
        assertNotRefreshed(await cookieOnly(session, headers));
      }
    });

    it('compares Sec-Fetch-Site case-insensitively: Same-Origin is accepted, CROSS-SITE refused', async () => {
      const session = await shared.api.session(uniqueName('case'), uniquePassword());
      await assertRefreshedOnServer(await cookieOnly(session, { 'sec-fetch-site': 'Same-Origin' }), session);
      assertNotRefreshed(await cookieOnly(session, { 'sec-fetch-site': 'CROSS-SITE', 'x-requested-with': 'XMLHttpRequest' }));
    });

    it('refuses a cookie-only GET carrying the cookie twice: 401 invalid_refresh_token, cleared at Path=/ and Path=/auth, nobody authorized', async () => {
      const victim = await shared.api.session(uniqueName('dupvictim'), uniquePassword());
      const attacker = await shared.api.session(uniqueName('dupattacker'), uniquePassword());
      const reply = await shared.api.send('GET', '/api/private', {
        headers: { 'sec-fetch-site': 'same-origin', cookie: `${SECURE_COOKIE}=${attacker.cookie}; ${SECURE_COOKIE}=${victim.cookie}` },
      });
      assertError(reply, 401, 'invalid_refresh_token');
      assert.match((reply.body as { error_description: string }).error_description, /more than once/);
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer realm="hush"/);
      assert.equal(reply.headers.get('x-access-token'), null);
      assertCookieCleared(reply, SECURE_COOKIE, '/');
      assertCookieCleared(reply, SECURE_COOKIE, '/auth');
    });

    it('migrates a pre-fix __Secure-hush-refresh (Path=/ in this mode): authorized, answered with the new cookie, the old one cleared', async () => {
      const session = await shared.api.session(uniqueName('migrate'), uniquePassword());
      const reply = await shared.api.send('GET', '/api/private', { headers: { 'sec-fetch-site': 'same-origin', cookie: `${LEGACY_COOKIE}=${session.cookie}` } });
      await assertRefreshedOnServer(reply, session);
      assertCookieCleared(reply, LEGACY_COOKIE, '/');
      assertCookieCleared(reply, LEGACY_COOKIE, '/auth');
    });

    it('refuses cookie-only requests with any other method, changing nothing', async () => {
      const session = await shared.api.session(uniqueName('post'), uniquePassword());
      const headers = { 'sec-fetch-site': 'same-origin', origin: own(), 'x-requested-with': 'XMLHttpRequest' };
      const cookies = shared.api.cookieJar(session.cookie);
      for (const [method, path, json] of [
        ['POST', '/auth/logout-all', undefined],
        ['POST', '/auth/password', { currentPassword: session.password, newPassword: uniquePassword() }],
        ['DELETE', '/auth/me', { password: session.password }],
        ['DELETE', '/auth/sessions/x', undefined],
      ] as const) {
        assertNotRefreshed(await shared.api.send(method, path, { cookies, headers, json }));
      }
      assertTokenResponse(await shared.api.refresh(session.cookie), 200, session.username);
      assertTokenResponse(await shared.api.login(session.username, session.password), 200, session.username);
    });

    it('refuses a dead cookie with the usual 401', async () => {
      const session = await shared.api.session(uniqueName('dead'), uniquePassword());
      assert.equal((await shared.api.logoutAll(session.token)).status, 204);
      const reply = await cookieOnly(session, { 'sec-fetch-site': 'same-origin' });
      assertError(reply, 401, 'missing_token');
      assert.equal(reply.headers.get('x-access-token'), null);
    });
  });
  describe(`server-side silent refresh under the refresh cap (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_SERVER_REFRESH: 'on', HUSH_RATE_LIMIT: 'on' });

    it('counts cookie-only refreshes in the refresh bucket: the 301st from one address within a minute is 429 rate_limited with Retry-After', async () => {
      const session = await shared.api.session(uniqueName('capped'), uniquePassword());
      const get = (): Promise<HttpReply> =>
        shared.api.send('GET', '/api/private', { cookies: shared.api.cookieJar(session.cookie), headers: { 'sec-fetch-site': 'same-origin' } });
      const statuses: number[] = [];
      // Ten at a time: quick enough to stay inside one minute's window on a loaded machine.
      for (let sent = 0; sent < 300; sent += 10) {
        const replies = await Promise.all(Array.from({ length: 10 }, get));
        statuses.push(...replies.map((r) => r.status));
      }
      assert.deepEqual([...new Set(statuses)], [200], 'the first 300 are served');
      const refused = await get();
      assertError(refused, 429, 'rate_limited');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(refused.headers.get('x-access-token'), null);
      assertNoCookie(refused);
      // One bucket: POST /auth/refresh from the same address is refused too.
      assertError(await shared.api.refresh(session.cookie), 429, 'rate_limited');
      // A valid Bearer token needs no refresh, and is not throttled.
      assert.equal((await shared.api.private(session.token)).status, 200);
    });
  });
}
