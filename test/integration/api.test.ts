/**
 * The contract's HTTP API table, row by row, over real HTTP against `hush start`: signup, login,
 * refresh, logout, me, sessions (stateless), JWKS, /api/private, health, OpenAPI, unknown routes,
 * and the body rules (JSON only, 16 KiB, strict field types).
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
  SECURE_COOKIE,
  uniqueName,
  uniquePassword,
  type JsonObject,
} from './helpers/http.js';
import { databases, sharedServer } from './helpers/suite.js';

const THIRTY_DAYS = 30 * 24 * 3600;
const JSON_HEADERS = { 'content-type': 'application/json' };

for (const { database, skip } of await databases()) {
  describe(`HTTP API (${database})`, { skip }, () => {
    const shared = sharedServer(database);

    describe('POST /auth/signup', () => {
      it('answers 201 with the token response, no-store, and the refresh cookie', async () => {
        const username = uniqueName('signup');
        const reply = await shared.api.signup(username, uniquePassword());
        const body = assertTokenResponse(reply, 201, username);
        assert.equal(body.expires_in, 600, 'the default access-token lifetime is 10 minutes');
        const cookie = cookieNamed(reply, SECURE_COOKIE);
        assert.ok(cookie.value.length > 0);
        assert.notEqual(cookie.value, body.access_token, 'the refresh token is not the access token');
        assert.ok(!reply.text.includes(cookie.value), 'the refresh token never appears in a body');
      });

      it('sets the refresh cookie exactly: __Host- name, HttpOnly, Secure, SameSite=Strict, Path=/, no Domain, Max-Age = refresh TTL', async () => {
        const reply = await shared.api.signup(uniqueName('cookie'), uniquePassword());
        const cookie = cookieNamed(reply, SECURE_COOKIE);
        assert.equal(cookie.attributes['httponly'], true);
        assert.equal(cookie.attributes['secure'], true);
        assert.equal(cookie.attributes['samesite'], 'Strict');
        assert.equal(cookie.attributes['path'], '/');
        const maxAge = Number(cookie.attributes['max-age']);
        assert.ok(maxAge <= THIRTY_DAYS && maxAge >= THIRTY_DAYS - 2, `Max-Age ${maxAge} is the 30-day refresh TTL`);
        assert.equal(cookie.attributes['domain'], undefined, 'a host-only cookie');
        assert.equal(cookie.attributes['expires'], undefined, 'Max-Age alone sets the lifetime');
      });

      it('issues an at+jwt access token whose claims name the new user', async () => {
        const username = uniqueName('claims');
        const body = assertTokenResponse(await shared.api.signup(username, uniquePassword()), 201, username);
        const { header, payload } = decodeJwt(body.access_token);
        assert.equal(header['typ'], 'at+jwt');
        assert.equal(header['alg'], 'HS256');
        assert.equal(payload['iss'], 'hush');
        assert.equal(payload['aud'], 'hush');
        assert.equal(payload['sub'], body.user.id);
        assert.equal(payload['preferred_username'], username);
        for (const claim of ['client_id', 'jti', 'sid']) assert.equal(typeof payload[claim], 'string', claim);
        assert.equal(typeof payload['iat'], 'number');
        assert.equal(payload['exp'], (payload['iat'] as number) + body.expires_in);
      });

      it('gives every user a new random UUID', async () => {
        const a = assertTokenResponse(await shared.api.signup(uniqueName('uuid'), uniquePassword()), 201);
        const b = assertTokenResponse(await shared.api.signup(uniqueName('uuid'), uniquePassword()), 201);
        assert.notEqual(a.user.id, b.user.id);
      });

      it('refuses a taken username with 409 username_taken, ignoring case', async () => {
        const username = uniqueName('Taken');
        assertTokenResponse(await shared.api.signup(username, uniquePassword()), 201);
        const again = await shared.api.signup(username, uniquePassword());
        assertError(again, 409, 'username_taken');
        assertNoCookie(again);
        assertError(await shared.api.signup(username.toLowerCase(), uniquePassword()), 409, 'username_taken');
        assertError(await shared.api.signup(username.toUpperCase(), uniquePassword()), 409, 'username_taken');
      });

      it('accepts usernames of 3 to 64 ASCII letters, digits and . _ - @', async () => {
        const suffix = uniqueName('').slice(1, 9);
        for (const username of [`a${suffix.slice(0, 2)}`, `${suffix}${'x'.repeat(56)}`, `A.b_c-d@${suffix}`]) {
          assertTokenResponse(await shared.api.signup(username, uniquePassword()), 201, username);
        }
      });

      it('refuses other usernames with 400 invalid_request', async () => {
        const suffix = uniqueName('').slice(1, 9);
        for (const username of ['ab', '', `${suffix}${'y'.repeat(57)}`, `sp ace${suffix}`, `ünï${suffix}`, `semi;${suffix}`, `quote'${suffix}`, `tab\t${suffix}`, `plus+${suffix}`]) {
          const reply = await shared.api.signup(username, uniquePassword());
          assertError(reply, 400, 'invalid_request');
          assertNoCookie(reply);
        }
      });

      it('counts the password in code points: 8 to 1024, else 400 invalid_request', async () => {
        assertError(await shared.api.signup(uniqueName('short'), '1234567'), 400, 'invalid_request');
        assertTokenResponse(await shared.api.signup(uniqueName('eight'), '12345678'), 201);
        assertTokenResponse(await shared.api.signup(uniqueName('long'), 'p'.repeat(1024)), 201);
        assertError(await shared.api.signup(uniqueName('toolong'), 'p'.repeat(1025)), 400, 'invalid_request');
        // Eight astral characters are sixteen UTF-16 units but eight code points.
        assertTokenResponse(await shared.api.signup(uniqueName('emoji'), '🔑'.repeat(8)), 201);
        assertError(await shared.api.signup(uniqueName('emoji7'), '🔑'.repeat(7)), 400, 'invalid_request');
        assertTokenResponse(await shared.api.signup(uniqueName('emoji1024'), '🔑'.repeat(1024)), 201);
      });

      it('normalises passwords with NFKC before hashing and before counting', async () => {
        const wide = uniqueName('nfkc');
        // Full-width letters are the same password as their ASCII forms.
        assertTokenResponse(await shared.api.signup(wide, 'ｐａｓｓｗｏｒｄ１２'), 201);
        assertTokenResponse(await shared.api.login(wide, 'password12'), 200, wide);
        // Four ligatures are four code points before NFKC and eight after: long enough.
        const ligature = uniqueName('nfkc');
        assertTokenResponse(await shared.api.signup(ligature, 'ﬀﬀﬀﬀ'), 201);
        assertTokenResponse(await shared.api.login(ligature, 'ffffffff'), 200, ligature);
      });

      it('ignores unknown fields', async () => {
        const username = uniqueName('extra');
        const reply = await shared.api.send('POST', '/auth/signup', {
          json: { username, password: uniquePassword(), role: 'admin', id: '00000000-0000-4000-8000-000000000000', suspended: true },
        });
        const body = assertTokenResponse(reply, 201, username);
        assert.notEqual(body.user.id, '00000000-0000-4000-8000-000000000000');
        assert.equal(decodeJwt(body.access_token).payload['role'], undefined);
      });
    });

    describe('POST /auth/login', () => {
      it('answers 200 with the token response and a refresh cookie', async () => {
        const username = uniqueName('login');
        const password = uniquePassword();
        const signup = assertTokenResponse(await shared.api.signup(username, password), 201);
        const reply = await shared.api.login(username, password);
        const body = assertTokenResponse(reply, 200, username);
        assert.equal(body.user.id, signup.user.id);
        assert.notEqual(decodeJwt(body.access_token).payload['sid'], decodeJwt(signup.access_token).payload['sid'], 'a login starts a new session');
        const cookie = cookieNamed(reply, SECURE_COOKIE);
        assert.equal(cookie.attributes['path'], '/');
      });

      it('finds the user whatever the case of the username, and answers with it as registered', async () => {
        const username = uniqueName('MixedCase');
        const password = uniquePassword();
        await shared.api.session(username, password);
        assertTokenResponse(await shared.api.login(username.toLowerCase(), password), 200, username);
      });

      it('answers an unknown user and a wrong password with the same 401 invalid_credentials', async () => {
        const username = uniqueName('victim');
        await shared.api.session(username, uniquePassword());
        const wrong = await shared.api.login(username, 'not the password');
        const unknown = await shared.api.login(uniqueName('nobody'), 'not the password');
        const impossible = await shared.api.login('no such user!', 'not the password');
        for (const reply of [wrong, unknown, impossible]) {
          assertError(reply, 401, 'invalid_credentials');
          assertNoCookie(reply);
        }
        assert.deepEqual(unknown.body, wrong.body);
        assert.deepEqual(impossible.body, wrong.body);
        assert.equal(unknown.headers.get('www-authenticate'), wrong.headers.get('www-authenticate'));
      });

      it('checks only types and lengths: a too-short username or password is 400 invalid_request', async () => {
        assertError(await shared.api.login('ab', 'long enough password'), 400, 'invalid_request');
        assertError(await shared.api.login(uniqueName('short'), 'short'), 400, 'invalid_request');
      });
    });

    describe('POST /auth/refresh', () => {
      it('exchanges the cookie for a new token response and a new cookie with the full refresh TTL', async () => {
        const session = await shared.api.session(uniqueName('refresh'), uniquePassword());
        const reply = await shared.api.refresh(session.cookie);
        const body = assertTokenResponse(reply, 200, session.username);
        assert.equal(body.user.id, session.user.id);
        assert.equal(decodeJwt(body.access_token).payload['sid'], decodeJwt(session.token).payload['sid'], 'the session goes on');
        const cookie = cookieNamed(reply, SECURE_COOKIE);
        assert.ok(cookie.value.length > 0);
        assert.equal(cookie.attributes['httponly'], true);
        assert.equal(cookie.attributes['secure'], true);
        assert.equal(cookie.attributes['samesite'], 'Strict');
        assert.equal(cookie.attributes['path'], '/');
        const maxAge = Number(cookie.attributes['max-age']);
        assert.ok(maxAge <= THIRTY_DAYS && maxAge >= THIRTY_DAYS - 2, `Max-Age ${maxAge}`);
        assert.equal((await shared.api.private(body.access_token)).status, 200);
        // The new cookie refreshes too.
        assertTokenResponse(await shared.api.refresh(cookie.value), 200);
      });

      it('needs X-Requested-With: without it, 403 csrf_failed and the cookie is left alone', async () => {
        const session = await shared.api.session(uniqueName('xrw'), uniquePassword());
        const reply = await shared.api.refresh(session.cookie, {});
        assertError(reply, 403, 'csrf_failed');
        assertNoCookie(reply);
        assertTokenResponse(await shared.api.refresh(session.cookie), 200);
      });

      it('accepts any value of X-Requested-With', async () => {
        const session = await shared.api.session(uniqueName('xrwany'), uniquePassword());
        assertTokenResponse(await shared.api.refresh(session.cookie, { 'x-requested-with': '1' }), 200);
      });

      it('answers a missing cookie with 401 invalid_refresh_token and clears the cookie', async () => {
        const reply = await shared.api.refresh(undefined);
        assertError(reply, 401, 'invalid_refresh_token');
        assertCookieCleared(reply, SECURE_COOKIE);
        const cleared = cookieNamed(reply, SECURE_COOKIE);
        assert.equal(cleared.attributes['httponly'], true);
        assert.equal(cleared.attributes['secure'], true);
        assert.equal(cleared.attributes['samesite'], 'Strict');
      });

      it('answers a bad cookie with 401 invalid_refresh_token and clears it', async () => {
        const session = await shared.api.session(uniqueName('badcookie'), uniquePassword());
        const [head, payload, signature = ''] = session.cookie.split('.');
        const flipped = `${head}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
        for (const value of ['garbage', '', 'a.b.c', flipped, `${session.cookie}x`, session.cookie.split('.').slice(0, 2).join('.')]) {
          const reply = await shared.api.refresh(value);
          assertError(reply, 401, 'invalid_refresh_token');
          assertCookieCleared(reply, SECURE_COOKIE);
        }
      });

      it('reads the refresh token only from its own cookie name', async () => {
        const session = await shared.api.session(uniqueName('othername'), uniquePassword());
        const reply = await shared.api.send('POST', '/auth/refresh', {
          cookies: { 'hush-refresh': session.cookie, refresh: session.cookie },
          headers: { 'x-requested-with': 'XMLHttpRequest' },
        });
        assertError(reply, 401, 'invalid_refresh_token');
      });

      it('refuses an access token presented as the refresh cookie', async () => {
        const session = await shared.api.session(uniqueName('confused'), uniquePassword());
        const reply = await shared.api.refresh(session.token);
        assertError(reply, 401, 'invalid_refresh_token');
        assertCookieCleared(reply, SECURE_COOKIE);
      });

      it('ignores a Content-Type and a body, as endpoints without a body do', async () => {
        const session = await shared.api.session(uniqueName('refreshbody'), uniquePassword());
        const reply = await shared.api.send('POST', '/auth/refresh', {
          cookies: shared.api.cookieJar(session.cookie),
          headers: { 'x-requested-with': 'XMLHttpRequest', 'content-type': 'text/plain' },
          body: 'this is not JSON {',
        });
        assertTokenResponse(reply, 200, session.username);
      });
    });

    describe('POST /auth/logout', () => {
      it('answers 204 and clears the refresh cookie with the attributes it was set with', async () => {
        const session = await shared.api.session(uniqueName('logout'), uniquePassword());
        const reply = await shared.api.logout(session.cookie);
        assert.equal(reply.status, 204);
        assert.equal(reply.text, '');
        assertCookieCleared(reply, SECURE_COOKIE);
        const cleared = cookieNamed(reply, SECURE_COOKIE);
        assert.equal(cleared.attributes['httponly'], true);
        assert.equal(cleared.attributes['secure'], true);
        assert.equal(cleared.attributes['samesite'], 'Strict');
      });

      it('is idempotent: again, and without any cookie, still 204 with the cookie cleared', async () => {
        const session = await shared.api.session(uniqueName('logout2'), uniquePassword());
        for (const cookie of [session.cookie, session.cookie, undefined, 'garbage']) {
          const reply = await shared.api.logout(cookie);
          assert.equal(reply.status, 204);
          assertCookieCleared(reply, SECURE_COOKIE);
        }
      });

      it('needs X-Requested-With: without it, 403 csrf_failed and the cookie is left alone', async () => {
        const session = await shared.api.session(uniqueName('logoutxrw'), uniquePassword());
        const reply = await shared.api.logout(session.cookie, {});
        assertError(reply, 403, 'csrf_failed');
        assertNoCookie(reply);
      });

      it('ignores a Content-Type and a body of up to 16 KiB, and answers a larger one with 413 payload_too_large', async () => {
        const headers = { 'x-requested-with': 'XMLHttpRequest', 'content-type': 'application/x-www-form-urlencoded' };
        assert.equal((await shared.api.send('POST', '/auth/logout', { headers, body: `a=${'b'.repeat(16 * 1024 - 2)}` })).status, 204);
        assertError(await shared.api.send('POST', '/auth/logout', { headers, body: `a=${'b'.repeat(20 * 1024)}` }), 413, 'payload_too_large');
      });
    });

    describe('POST /auth/logout-all', () => {
      it('answers 204 with a valid Bearer token', async () => {
        const session = await shared.api.session(uniqueName('logoutall'), uniquePassword());
        const reply = await shared.api.logoutAll(session.token);
        assert.equal(reply.status, 204);
        assert.equal(reply.text, '');
      });

      it('needs a Bearer token: 401 missing_token without one', async () => {
        assertError(await shared.api.send('POST', '/auth/logout-all'), 401, 'missing_token');
      });
    });

    describe('GET /auth/me', () => {
      it('answers 200 {"user": {id, username}} for the token', async () => {
        const session = await shared.api.session(uniqueName('me'), uniquePassword());
        const reply = await shared.api.me(session.token);
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.body, { user: { id: session.user.id, username: session.username } });
      });

      it('needs a Bearer token: 401 missing_token without one', async () => {
        assertError(await shared.api.send('GET', '/auth/me'), 401, 'missing_token');
      });
    });

    describe('GET /auth/sessions and DELETE /auth/sessions/{id} (stateless strategy)', () => {
      it('GET /auth/sessions answers 404 not_supported', async () => {
        const session = await shared.api.session(uniqueName('sessions'), uniquePassword());
        assertError(await shared.api.send('GET', '/auth/sessions', { token: session.token }), 404, 'not_supported');
      });

      it('DELETE /auth/sessions/{id} answers 404 not_supported, even for the current session', async () => {
        const session = await shared.api.session(uniqueName('sessions'), uniquePassword());
        const sid = decodeJwt(session.token).payload['sid'] as string;
        for (const id of ['x', sid]) {
          assertError(await shared.api.send('DELETE', `/auth/sessions/${id}`, { token: session.token }), 404, 'not_supported');
        }
        assert.equal((await shared.api.refresh(session.cookie)).status, 200, 'the session is untouched');
      });

      it('both need a Bearer token first', async () => {
        assertError(await shared.api.send('GET', '/auth/sessions'), 401, 'missing_token');
        assertError(await shared.api.send('DELETE', '/auth/sessions/x'), 401, 'missing_token');
      });
    });

    describe('GET /api/private', () => {
      it('answers 200 {message, user} from the token', async () => {
        const session = await shared.api.session(uniqueName('private'), uniquePassword());
        const reply = await shared.api.private(session.token);
        assert.equal(reply.status, 200);
        const body = reply.body as JsonObject;
        assert.deepEqual(Object.keys(body).sort(), ['message', 'user']);
        assert.equal(typeof body['message'], 'string');
        assert.deepEqual(body['user'], { id: session.user.id, username: session.username });
      });

      it('needs a Bearer token: 401 missing_token with WWW-Authenticate: Bearer realm="hush"', async () => {
        const reply = await shared.api.send('GET', '/api/private');
        assertError(reply, 401, 'missing_token');
        assert.equal(reply.headers.get('www-authenticate'), 'Bearer realm="hush"');
      });
    });

    describe('GET /.well-known/jwks.json', () => {
      it('answers 200 with an empty key list under HS256', async () => {
        const reply = await shared.api.send('GET', '/.well-known/jwks.json');
        assert.equal(reply.status, 200);
        assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
        assert.deepEqual(reply.body, { keys: [] });
      });
    });

    describe('health and discovery', () => {
      it('GET /healthz answers 200 {"status":"ok"}', async () => {
        const reply = await shared.api.send('GET', '/healthz');
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.body, { status: 'ok' });
      });

      it('GET /readyz answers 200 while the database is reachable', async () => {
        const reply = await shared.api.send('GET', '/readyz');
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.body, { status: 'ok' });
      });

      it('GET /openapi.json is an OpenAPI 3.1 document listing every route', async () => {
        const reply = await shared.api.send('GET', '/openapi.json');
        assert.equal(reply.status, 200);
        assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
        const doc = reply.body as { openapi: string; info: JsonObject; paths: Record<string, Record<string, unknown>> };
        assert.match(doc.openapi, /^3\.1\.\d+$/);
        assert.equal(typeof doc.info['title'], 'string');
        assert.equal(typeof doc.info['version'], 'string');
        const expected: Array<[string, string]> = [
          ['/auth/signup', 'post'],
          ['/auth/login', 'post'],
          ['/auth/refresh', 'post'],
          ['/auth/logout', 'post'],
          ['/auth/logout-all', 'post'],
          ['/auth/password', 'post'],
          ['/auth/me', 'get'],
          ['/auth/me', 'delete'],
          ['/auth/sessions', 'get'],
          ['/auth/sessions/{id}', 'delete'],
          ['/.well-known/jwks.json', 'get'],
          ['/api/private', 'get'],
          ['/healthz', 'get'],
          ['/readyz', 'get'],
        ];
        for (const [path, method] of expected) {
          assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is in the document`);
          const operation = doc.paths[path]![method] as { responses?: JsonObject };
          assert.ok(operation.responses && Object.keys(operation.responses).length > 0, `${method.toUpperCase()} ${path} lists its responses`);
        }
      });

      it('answers unknown routes with 404 not_found', async () => {
        for (const [method, path] of [
          ['GET', '/nope'],
          ['GET', '/auth'],
          ['GET', '/auth/login'],
          ['POST', '/auth/unknown'],
          ['PUT', '/auth/me'],
          ['DELETE', '/api/private'],
          ['GET', '/api/private/extra'],
        ] as const) {
          assertError(await shared.api.send(method, path, { headers: JSON_HEADERS, body: method === 'GET' ? undefined : '{}' }), 404, 'not_found');
        }
      });
    });

    describe('request bodies', () => {
      const jsonRoutes = [
        { path: '/auth/signup', method: 'POST', bearer: false },
        { path: '/auth/login', method: 'POST', bearer: false },
        { path: '/auth/password', method: 'POST', bearer: true },
        { path: '/auth/me', method: 'DELETE', bearer: true },
      ] as const;

      for (const route of jsonRoutes) {
        it(`${route.method} ${route.path} answers 415 unsupported_media_type to text/plain, forms and a missing Content-Type`, async () => {
          const token = route.bearer ? (await shared.api.session(uniqueName('media'), uniquePassword())).token : undefined;
          const valid = JSON.stringify({ username: uniqueName('media'), password: uniquePassword(), currentPassword: 'x', newPassword: 'y' });
          for (const [type, body] of [
            ['text/plain', valid],
            ['text/plain;charset=UTF-8', valid],
            ['application/x-www-form-urlencoded', 'username=abcdef&password=12345678'],
            ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nabcdef\r\n--x--\r\n'],
            ['application/xml', '<x/>'],
            [undefined, valid],
          ] as const) {
            const reply = await shared.api.send(route.method, route.path, { token, body, headers: type ? { 'content-type': type } : {} });
            assertError(reply, 415, 'unsupported_media_type');
          }
        });

        it(`${route.method} ${route.path} answers 413 payload_too_large to a body over 16 KiB, but reads one of exactly 16 KiB`, async () => {
          const token = route.bearer ? (await shared.api.session(uniqueName('large'), uniquePassword())).token : undefined;
          const sized = (bytes: number): string => {
            const head = '{"username":"abcdef","password":"';
            return `${head}${'p'.repeat(bytes - head.length - 2)}"}`;
          };
          assert.equal(Buffer.byteLength(sized(16 * 1024 + 1)), 16 * 1024 + 1);
          assertError(await shared.api.send(route.method, route.path, { token, headers: JSON_HEADERS, body: sized(16 * 1024 + 1) }), 413, 'payload_too_large');
          assertError(await shared.api.send(route.method, route.path, { token, headers: JSON_HEADERS, body: sized(64 * 1024) }), 413, 'payload_too_large');
          const exact = await shared.api.send(route.method, route.path, { token, headers: JSON_HEADERS, body: sized(16 * 1024) });
          assert.equal(exact.status, 400, `16 KiB is read (and then refused for its fields): ${exact.text}`);
        });
      }

      it('answers 400 invalid_request to missing fields, numbers, arrays, null, booleans and objects where strings belong', async () => {
        const username = uniqueName('fields');
        const password = uniquePassword();
        const session = await shared.api.session(username, password);
        const bad: Array<[string, string, unknown, string?]> = [];
        for (const path of ['/auth/signup', '/auth/login']) {
          bad.push(
            ['POST', path, {}],
            ['POST', path, { username }],
            ['POST', path, { password }],
            ['POST', path, { username: 123456, password }],
            ['POST', path, { username, password: 12345678 }],
            ['POST', path, { username: [username], password }],
            ['POST', path, { username, password: [password] }],
            ['POST', path, { username: null, password }],
            ['POST', path, { username, password: null }],
            ['POST', path, { username: true, password }],
            ['POST', path, { username: { value: username }, password }],
            ['POST', path, null],
            ['POST', path, []],
            ['POST', path, [{ username, password }]],
            ['POST', path, 'a string'],
            ['POST', path, 42],
            ['POST', path, true],
          );
        }
        bad.push(
          ['POST', '/auth/password', {}, session.token],
          ['POST', '/auth/password', { currentPassword: password }, session.token],
          ['POST', '/auth/password', { newPassword: uniquePassword() }, session.token],
          ['POST', '/auth/password', { currentPassword: password, newPassword: 12345678 }, session.token],
          ['POST', '/auth/password', { currentPassword: 12345678, newPassword: uniquePassword() }, session.token],
          ['POST', '/auth/password', { currentPassword: password, newPassword: 'short' }, session.token],
          ['POST', '/auth/password', null, session.token],
          ['POST', '/auth/password', [], session.token],
          ['DELETE', '/auth/me', {}, session.token],
          ['DELETE', '/auth/me', { password: 12345678 }, session.token],
          ['DELETE', '/auth/me', { password: null }, session.token],
          ['DELETE', '/auth/me', { password: [password] }, session.token],
          ['DELETE', '/auth/me', null, session.token],
          ['DELETE', '/auth/me', [password], session.token],
        );
        for (const [method, path, json, token] of bad) {
          const reply = await shared.api.send(method, path, { token, headers: JSON_HEADERS, body: JSON.stringify(json) });
          assertError(reply, 400, 'invalid_request');
          assertNoCookie(reply);
        }
        // Nothing was coerced into a change: the account and its password are as they were.
        assertTokenResponse(await shared.api.login(username, password), 200, username);
        assert.equal((await shared.api.me(session.token)).status, 200);
      });

      it('answers 400 invalid_request to an empty body and to broken JSON', async () => {
        for (const body of ['', ' ', '{', '{"username":', "{'username':'abc'}", '{"username":"abc","password":"12345678"', 'undefined', 'NaN']) {
          assertError(await shared.api.send('POST', '/auth/login', { headers: JSON_HEADERS, body }), 400, 'invalid_request');
        }
      });

      it('accepts application/json with parameters and in any case', async () => {
        for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
          const username = uniqueName('ctype');
          const reply = await shared.api.send('POST', '/auth/signup', { headers: { 'content-type': type }, body: JSON.stringify({ username, password: uniquePassword() }) });
          assertTokenResponse(reply, 201, username);
        }
      });
    });
  });
}
