/**
 * The contract's CSRF table and CORS rules: every refused case answers 403 `csrf_failed` and changes
 * nothing; same-origin, allowed and non-browser requests pass; CORS answers allowed origins only,
 * with credentials, the exposed headers and cacheable preflights.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import {
  assertError,
  assertNoCookie,
  assertTokenResponse,
  uniqueName,
  uniquePassword,
  type Api,
  type HttpReply,
  type RequestOptions,
} from './helpers/http.js';
import { BASE_ENV, databases, sharedServer } from './helpers/suite.js';

const XRW = { 'x-requested-with': 'XMLHttpRequest' };
const EVIL = 'https://evil.example';

/** A user with two sessions, a fresh password to try changing to, and an unused username. */
interface Victim {
  readonly username: string;
  readonly password: string;
  readonly newPassword: string;
  readonly token: string;
  readonly cookie: string;
  readonly unusedName: string;
}

async function victim(api: Api): Promise<Victim> {
  const session = await api.session(uniqueName('victim'), uniquePassword());
  return { ...session, newPassword: uniquePassword(), unusedName: uniqueName('unused') };
}

/** Every POST and DELETE of the API, as a request that would succeed without the CSRF headers. */
function stateChangingRequests(api: Api, v: Victim): Array<{ name: string; method: string; path: string; options: RequestOptions }> {
  return [
    { name: 'signup', method: 'POST', path: '/auth/signup', options: { json: { username: v.unusedName, password: v.password } } },
    { name: 'login', method: 'POST', path: '/auth/login', options: { json: { username: v.username, password: v.password } } },
    { name: 'refresh', method: 'POST', path: '/auth/refresh', options: { cookies: api.cookieJar(v.cookie), headers: XRW } },
    { name: 'logout', method: 'POST', path: '/auth/logout', options: { cookies: api.cookieJar(v.cookie), headers: XRW } },
    { name: 'logout-all', method: 'POST', path: '/auth/logout-all', options: { token: v.token, cookies: api.cookieJar(v.cookie), headers: XRW } },
    { name: 'password', method: 'POST', path: '/auth/password', options: { token: v.token, json: { currentPassword: v.password, newPassword: v.newPassword } } },
    { name: 'delete account', method: 'DELETE', path: '/auth/me', options: { token: v.token, json: { password: v.password } } },
    { name: 'delete session', method: 'DELETE', path: '/auth/sessions/some-session', options: { token: v.token } },
  ];
}

/**
 * POSTs a login with this exact `Host` and `Origin` (fetch will not send a Host of our choosing):
 * what a DNS-rebinding page sends, its own name now resolving to this server.
 */
function loginWithHost(url: string, host: string, origin: string, username: string, password: string): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/auth/login`, { method: 'POST', headers: { host, origin, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Sends `request` with `extra` headers added. */
function withHeaders(api: Api, request: { method: string; path: string; options: RequestOptions }, extra: Record<string, string>): Promise<HttpReply> {
  return api.send(request.method, request.path, { ...request.options, headers: { ...request.options.headers, ...extra } });
}

/** Asserts that the victim's account, sessions and password are as they were. */
async function assertUnchanged(api: Api, v: Victim): Promise<void> {
  assert.equal((await api.private(v.token)).status, 200, 'the access token still works');
  assertTokenResponse(await api.refresh(v.cookie), 200, v.username);
  assertTokenResponse(await api.login(v.username, v.password), 200, v.username);
  assertError(await api.login(v.username, v.newPassword), 401, 'invalid_credentials');
  assertTokenResponse(await api.signup(v.unusedName, uniquePassword()), 201, v.unusedName);
}

/** The names of the CORS headers in `reply`. */
function corsHeaders(reply: HttpReply): string[] {
  return [...reply.headers.keys()].filter((name) => name.startsWith('access-control-'));
}

function listed(header: string | null): string[] {
  return (header ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

for (const { database, skip } of await databases()) {
  describe(`CSRF (${database})`, { skip }, () => {
    const shared = sharedServer(database);
    const own = (): string => new URL(shared.server.url).origin;

    const refusals: Array<[string, () => Record<string, string>]> = [
      ['Sec-Fetch-Site: cross-site', () => ({ 'sec-fetch-site': 'cross-site' })],
      ['Sec-Fetch-Site: Cross-Site, in any case', () => ({ 'sec-fetch-site': 'Cross-Site', origin: own() })],
      ["Sec-Fetch-Site: cross-site, even with the server's own Origin", () => ({ 'sec-fetch-site': 'cross-site', origin: own() })],
      ['a foreign Origin', () => ({ origin: EVIL })],
      ['a foreign Origin, even with Sec-Fetch-Site: same-origin', () => ({ origin: EVIL, 'sec-fetch-site': 'same-origin' })],
      ['Origin: null', () => ({ origin: 'null' })],
      ["the server's host on another port", () => ({ origin: `http://127.0.0.1:${Number(new URL(own()).port) === 1 ? 2 : 1}` })],
      ["the server's host and port over https", () => ({ origin: own().replace(/^http:/, 'https:') })],
      ['a look-alike Origin', () => ({ origin: `${own()}.evil.example` })],
    ];

    for (const [what, headers] of refusals) {
      it(`refuses every POST and DELETE with ${what}: 403 csrf_failed, nothing changed`, async () => {
        const v = await victim(shared.api);
        for (const request of stateChangingRequests(shared.api, v)) {
          const reply = await withHeaders(shared.api, request, headers());
          assertError(reply, 403, 'csrf_failed');
          assertNoCookie(reply);
        }
        await assertUnchanged(shared.api, v);
      });
    }

    it('refuses refresh and logout without X-Requested-With, from any client, changing nothing', async () => {
      const v = await victim(shared.api);
      for (const path of ['/auth/refresh', '/auth/logout']) {
        const variants: Array<Record<string, string>> = [{}, { 'sec-fetch-site': 'same-origin', origin: own() }, { 'sec-fetch-site': 'none' }];
        for (const headers of variants) {
          const reply = await shared.api.send('POST', path, { cookies: shared.api.cookieJar(v.cookie), headers });
          assertError(reply, 403, 'csrf_failed');
          assertNoCookie(reply);
        }
      }
      await assertUnchanged(shared.api, v);
    });

    it("passes the server's own Origin and Sec-Fetch-Site same-origin, same-site and none", async () => {
      const username = uniqueName('own');
      const password = uniquePassword();
      assertTokenResponse(await shared.api.signup(username, password, { origin: own(), 'sec-fetch-site': 'same-origin' }), 201, username);
      assertTokenResponse(await shared.api.login(username, password, { 'sec-fetch-site': 'same-site' }), 200, username);
      const session = await shared.api.session(username, password, 'login');
      assertTokenResponse(await shared.api.refresh(session.cookie, { ...XRW, origin: own(), 'sec-fetch-site': 'same-origin' }), 200, username);
      assertTokenResponse(await shared.api.refresh(session.cookie, { ...XRW, 'sec-fetch-site': 'none' }), 200, username);
      assert.equal((await shared.api.logout(session.cookie, { ...XRW, origin: own() })).status, 204);
      assert.equal((await shared.api.logoutAll(session.token, { origin: own(), 'sec-fetch-site': 'same-origin' })).status, 204);
    });

    it('passes requests with neither Origin nor Sec-Fetch-Site (non-browser clients)', async () => {
      const v = await victim(shared.api);
      const reply = await shared.api.changePassword(v.token, v.password, v.newPassword);
      assertTokenResponse(reply, 200, v.username);
    });

    it('does not CSRF-check GET: a cross-site GET with a Bearer token is answered', async () => {
      const v = await victim(shared.api);
      const reply = await shared.api.send('GET', '/api/private', { token: v.token, headers: { 'sec-fetch-site': 'cross-site', origin: EVIL } });
      assert.equal(reply.status, 200);
    });

    it('without HUSH_PUBLIC_ORIGIN, takes its own origin from Host only for the hosts it is configured for (no DNS rebinding)', async () => {
      const v = await victim(shared.api);
      const port = new URL(shared.server.url).port;
      for (const name of ['rebind.example', 'attacker.test', '127.0.0.1.nip.example', 'localhost.evil.example']) {
        const reply = await loginWithHost(shared.server.url, `${name}:${port}`, `http://${name}:${port}`, v.username, v.password);
        assert.equal(reply.status, 403, `${name}: ${reply.body}`);
        assert.equal((JSON.parse(reply.body) as { error: string }).error, 'csrf_failed');
      }
      // The names it does answer to: HOST (127.0.0.1 here), localhost and loopback addresses.
      for (const name of ['127.0.0.1', 'localhost', 'LocalHost', '127.0.0.2']) {
        const reply = await loginWithHost(shared.server.url, `${name}:${port}`, `http://${name}:${port}`, v.username, v.password);
        assert.equal(reply.status, 200, `${name}: ${reply.body}`);
      }
    });

    it('sends no CORS headers when no origin is allowed', async () => {
      const v = await victim(shared.api);
      const replies = [
        await shared.api.send('GET', '/api/private', { token: v.token, headers: { origin: EVIL } }),
        await shared.api.login(v.username, v.password, { origin: EVIL }),
        await shared.api.send('OPTIONS', '/auth/login', { headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }),
      ];
      for (const reply of replies) assert.deepEqual(corsHeaders(reply), [], `no CORS headers (status ${reply.status})`);
    });
  });

  describe(`CORS with HUSH_ALLOWED_ORIGINS and HUSH_PUBLIC_ORIGIN (${database})`, { skip }, () => {
    const PUBLIC = 'https://auth.hush.test';
    const APP = 'https://app.hush.test';
    const DEV = 'http://localhost:5173';
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_PUBLIC_ORIGIN: PUBLIC, HUSH_ALLOWED_ORIGINS: `${APP}, ${DEV}` });

    function assertCors(reply: HttpReply, origin: string): void {
      assert.equal(reply.headers.get('access-control-allow-origin'), origin);
      assert.equal(reply.headers.get('access-control-allow-credentials'), 'true');
      assert.ok(listed(reply.headers.get('vary')).includes('origin'), 'Vary: Origin');
    }

    it('lets an allowed origin sign up, log in and refresh, answering with its CORS headers', async () => {
      for (const origin of [APP, DEV]) {
        const username = uniqueName('cors');
        const password = uniquePassword();
        const signup = await shared.api.signup(username, password, { origin, 'sec-fetch-site': 'same-site' });
        assertTokenResponse(signup, 201, username);
        assertCors(signup, origin);
        const login = await shared.api.login(username, password, { origin });
        assertTokenResponse(login, 200, username);
        assertCors(login, origin);
        const session = shared.api.sessionFrom(login, username, password);
        const refresh = await shared.api.refresh(session.cookie, { ...XRW, origin, 'sec-fetch-site': 'same-site' });
        assertTokenResponse(refresh, 200, username);
        assertCors(refresh, origin);
        const changed = await shared.api.changePassword(session.token, password, uniquePassword(), { origin });
        assertTokenResponse(changed, 200, username);
        assertCors(changed, origin);
      }
    });

    it('exposes WWW-Authenticate, Retry-After and x-access-token to allowed origins', async () => {
      const reply = await shared.api.send('GET', '/api/private', { headers: { origin: APP } });
      assertError(reply, 401, 'missing_token');
      assertCors(reply, APP);
      const exposed = listed(reply.headers.get('access-control-expose-headers'));
      for (const header of ['www-authenticate', 'retry-after', 'x-access-token']) assert.ok(exposed.includes(header), `${header} is exposed`);
    });

    it('answers preflights from allowed origins with credentials and a cacheable Access-Control-Max-Age', async () => {
      for (const [path, method, requested] of [
        ['/auth/refresh', 'POST', ['x-requested-with']],
        ['/auth/login', 'POST', ['content-type']],
        ['/auth/me', 'DELETE', ['authorization', 'content-type']],
        ['/api/private', 'GET', ['authorization']],
      ] as const) {
        const reply = await shared.api.send('OPTIONS', path, {
          headers: { origin: APP, 'access-control-request-method': method, 'access-control-request-headers': requested.join(',') },
        });
        assert.ok(reply.status >= 200 && reply.status < 300, `preflight of ${method} ${path}: ${reply.status}`);
        assertCors(reply, APP);
        assert.ok(listed(reply.headers.get('access-control-allow-methods')).includes(method.toLowerCase()), `${method} allowed`);
        const allowedHeaders = listed(reply.headers.get('access-control-allow-headers'));
        for (const header of requested) assert.ok(allowedHeaders.includes(header), `${header} allowed`);
        const maxAge = Number(reply.headers.get('access-control-max-age'));
        assert.ok(Number.isInteger(maxAge) && maxAge > 0, `Access-Control-Max-Age ${reply.headers.get('access-control-max-age')}`);
      }
    });

    const FOREIGN = [EVIL, 'null', `${APP}.evil.example`, 'https://evil-app.hush.test', 'http://app.hush.test', 'https://app.hush.test:8443', `${APP}/`];

    it('never grants a non-allowed origin access (no Access-Control-Allow-Origin), and refuses its POSTs with 403 csrf_failed', async () => {
      const v = await victim(shared.api);
      for (const origin of FOREIGN) {
        const get = await shared.api.send('GET', '/api/private', { token: v.token, headers: { origin } });
        assert.equal(get.headers.get('access-control-allow-origin'), null, `GET from ${origin}`);
        const preflight = await shared.api.send('OPTIONS', '/auth/login', {
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
        assert.equal(preflight.headers.get('access-control-allow-origin'), null, `preflight from ${origin}`);
        const post = await shared.api.login(v.username, v.password, { origin });
        assertError(post, 403, 'csrf_failed');
        assertNoCookie(post);
        assert.equal(post.headers.get('access-control-allow-origin'), null, `POST from ${origin}`);
      }
    });

    it('gives a non-allowed origin no CORS headers at all', async () => {
      const v = await victim(shared.api);
      for (const origin of FOREIGN) {
        const get = await shared.api.send('GET', '/api/private', { token: v.token, headers: { origin } });
        assert.deepEqual(corsHeaders(get), [], `no CORS headers on a GET from ${origin}`);
        const preflight = await shared.api.send('OPTIONS', '/auth/login', {
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
        assert.deepEqual(corsHeaders(preflight), [], `no CORS headers on a preflight from ${origin}`);
        const post = await shared.api.login(v.username, v.password, { origin });
        assert.deepEqual(corsHeaders(post), [], `no CORS headers on a POST from ${origin}`);
      }
    });

    it('takes HUSH_PUBLIC_ORIGIN as its own origin, not one made from the Host header', async () => {
      const v = await victim(shared.api);
      assertTokenResponse(await shared.api.login(v.username, v.password, { origin: PUBLIC, 'sec-fetch-site': 'same-origin' }), 200, v.username);
      const hostMade = await shared.api.login(v.username, v.password, { origin: new URL(shared.server.url).origin });
      assertError(hostMade, 403, 'csrf_failed');
      const spoofed = await shared.api.login(v.username, v.password, { origin: 'https://spoofed.example', host: 'spoofed.example' });
      assertError(spoofed, 403, 'csrf_failed');
    });
  });
  describe(`start-up warnings about origins (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_ALLOWED_ORIGINS: 'http://app.example.com, http://localhost:5173' });

    it('warns about a plain-http allowed origin other than loopback', () => {
      const output = shared.server.output();
      assert.match(output, /HUSH_ALLOWED_ORIGINS lists http:\/\/app\.example\.com, a plain-http origin/);
      assert.doesNotMatch(output, /lists http:\/\/localhost:5173/);
    });
  });
}
