/**
 * HTTP helpers for the integration specifications: requests against a running hush over real
 * sockets, `Set-Cookie` parsing, the contract's response shapes as assertions, and a record of
 * every secret a test sent or received so the server's log can be checked for leaks.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';

/** The refresh cookie's name by default and with `HUSH_COOKIE_SECURE=false`. */
export const SECURE_COOKIE = '__Host-hush-refresh';
export const PLAIN_COOKIE = 'hush-refresh';
/** The refresh cookie's name before the security fixes (issue 8), still migrated for one release. */
export const LEGACY_COOKIE = '__Secure-hush-refresh';

/** A JSON object as the server sends it. */
export type JsonObject = Record<string, unknown>;

/** One parsed `Set-Cookie` header. Attribute names are lower-cased; flags map to `true`. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly attributes: Readonly<Record<string, string | true>>;
  readonly raw: string;
}

/** A response, read to the end. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  readonly body: unknown;
  readonly cookies: readonly SetCookie[];
}

export interface RequestOptions {
  /** Serialised as JSON with `Content-Type: application/json`. */
  readonly json?: unknown;
  /** A raw body; no Content-Type is added. */
  readonly body?: string | Uint8Array<ArrayBuffer>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Sent as one `Cookie` header. */
  readonly cookies?: Readonly<Record<string, string>>;
}

/** Parses one `Set-Cookie` header value. */
export function parseSetCookie(raw: string): SetCookie {
  const [pair = '', ...parts] = raw.split(';');
  const eq = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at === -1) attributes[trimmed.toLowerCase()] = true;
    else attributes[trimmed.slice(0, at).trim().toLowerCase()] = trimmed.slice(at + 1).trim();
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes, raw };
}

/** Sends one request to `base + path` and reads the whole response. */
export async function send(base: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpReply> {
  const headers: Record<string, string> = {};
  let body: string | Uint8Array<ArrayBuffer> | undefined = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.cookies) {
    headers['cookie'] = Object.entries(options.cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
  }
  Object.assign(headers, options.headers);
  // Concatenated, not resolved: a path like `//x` must stay a path, not become a host.
  const response = await fetch(`${base.replace(/\/$/, '')}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown;
  if (text.length > 0 && /json/i.test(response.headers.get('content-type') ?? '')) {
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = undefined;
    }
  }
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: parsed,
    cookies: response.headers.getSetCookie().map(parseSetCookie),
  };
}

/** A signed-in browser, reduced to what matters: its access token and its refresh cookie. */
export interface Session {
  readonly username: string;
  readonly password: string;
  readonly token: string;
  /** The refresh cookie's value. */
  readonly cookie: string;
  readonly user: { readonly id: string; readonly username: string };
}

/** The default `X-Requested-With` that cookie-authenticated calls need. */
const REQUESTED_WITH = { 'x-requested-with': 'XMLHttpRequest' } as const;

/**
 * The hush API of one running server, as the contract names it. It remembers every password,
 * token and cookie it handled ({@link Api.secrets}) so a test can prove none reached the logs.
 */
export class Api {
  /** Passwords, access tokens and refresh tokens this client sent or received. */
  readonly secrets = new Set<string>();

  constructor(
    readonly url: string,
    readonly cookieName: string = SECURE_COOKIE,
  ) {}

  /** Records a value that must never appear in the server's output. */
  remember(secret: string): void {
    if (secret.length >= 8) this.secrets.add(secret);
  }

  async send(method: string, path: string, options: RequestOptions = {}): Promise<HttpReply> {
    if (options.token !== undefined) this.remember(options.token);
    for (const value of Object.values(options.cookies ?? {})) this.remember(value);
    const reply = await send(this.url, method, path, options);
    const body = reply.body as JsonObject | undefined;
    if (typeof body?.['access_token'] === 'string') this.remember(body['access_token']);
    for (const cookie of reply.cookies) if (cookie.value) this.remember(cookie.value);
    const refreshed = reply.headers.get('x-access-token');
    if (refreshed) this.remember(refreshed);
    return reply;
  }

  /** Cookies for a request that carries the refresh cookie (or none, when `value` is undefined). */
  cookieJar(value: string | undefined): Record<string, string> | undefined {
    return value === undefined ? undefined : { [this.cookieName]: value };
  }

  signup(username: string, password: string, headers?: Record<string, string>): Promise<HttpReply> {
    this.remember(password);
    return this.send('POST', '/auth/signup', { json: { username, password }, headers });
  }

  login(username: string, password: string, headers?: Record<string, string>): Promise<HttpReply> {
    this.remember(password);
    return this.send('POST', '/auth/login', { json: { username, password }, headers });
  }

  refresh(cookie: string | undefined, headers: Record<string, string> = REQUESTED_WITH): Promise<HttpReply> {
    return this.send('POST', '/auth/refresh', { cookies: this.cookieJar(cookie), headers });
  }

  logout(cookie: string | undefined, headers: Record<string, string> = REQUESTED_WITH): Promise<HttpReply> {
    return this.send('POST', '/auth/logout', { cookies: this.cookieJar(cookie), headers });
  }

  logoutAll(token: string, headers?: Record<string, string>): Promise<HttpReply> {
    return this.send('POST', '/auth/logout-all', { token, headers });
  }

  changePassword(token: string, currentPassword: string, newPassword: string, headers?: Record<string, string>): Promise<HttpReply> {
    this.remember(currentPassword);
    this.remember(newPassword);
    return this.send('POST', '/auth/password', { token, json: { currentPassword, newPassword }, headers });
  }

  me(token: string): Promise<HttpReply> {
    return this.send('GET', '/auth/me', { token });
  }

  deleteMe(token: string, password: string, headers?: Record<string, string>): Promise<HttpReply> {
    this.remember(password);
    return this.send('DELETE', '/auth/me', { token, json: { password }, headers });
  }

  private(token: string): Promise<HttpReply> {
    return this.send('GET', '/api/private', { token });
  }

  /** Signs up (or logs in) and returns the session, failing the test unless it succeeded. */
  async session(username: string, password: string, how: 'signup' | 'login' = 'signup'): Promise<Session> {
    const reply = how === 'signup' ? await this.signup(username, password) : await this.login(username, password);
    assert.equal(reply.status, how === 'signup' ? 201 : 200, `${how} failed: ${reply.text}`);
    return this.sessionFrom(reply, username, password);
  }

  /** The session a token response (signup, login, refresh, password change) establishes. */
  sessionFrom(reply: HttpReply, username: string, password: string): Session {
    const body = reply.body as { access_token: string; user: { id: string; username: string } };
    const cookie = reply.cookies.find((c) => c.name === this.cookieName && c.value !== '');
    assert.ok(cookie && cookie.value, `no ${this.cookieName} cookie in ${JSON.stringify(reply.cookies)}`);
    return { username, password, token: body.access_token, cookie: cookie.value, user: body.user };
  }
}

/** A username no other test uses: `prefix` plus random hex, within the contract's alphabet. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${randomBytes(5).toString('hex')}`.slice(0, 64);
}

/** A password nobody else uses. */
export function uniquePassword(): string {
  return `pw ${randomBytes(9).toString('base64url')} horse`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Asserts the contract's error: the status, `{error, error_description}` and nothing else, JSON. */
export function assertError(reply: HttpReply, status: number, code: string): void {
  assert.equal(reply.status, status, `expected ${status} ${code}, got ${reply.status}: ${reply.text.slice(0, 300)}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  const body = reply.body as JsonObject;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  assert.equal(body['error'], code);
  assert.equal(typeof body['error_description'], 'string');
  assert.ok((body['error_description'] as string).length > 0, 'error_description is empty');
}

/** Asserts the contract's token response (status, body shape, `Cache-Control: no-store`). */
export function assertTokenResponse(reply: HttpReply, status: number, username?: string): { access_token: string; expires_in: number; user: { id: string; username: string } } {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text.slice(0, 300)}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.match(reply.headers.get('cache-control') ?? '', /\bno-store\b/);
  const body = reply.body as JsonObject;
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type', 'user']);
  assert.equal(body['token_type'], 'Bearer');
  assert.equal(typeof body['access_token'], 'string');
  assert.match(body['access_token'] as string, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.ok(Number.isInteger(body['expires_in']) && (body['expires_in'] as number) > 0, 'expires_in is a positive integer');
  const user = body['user'] as JsonObject;
  assert.deepEqual(Object.keys(user).sort(), ['id', 'username']);
  assert.match(user['id'] as string, UUID);
  if (username !== undefined) assert.equal(user['username'], username);
  return body as { access_token: string; expires_in: number; user: { id: string; username: string } };
}

/**
 * The one `Set-Cookie` for `name` at `path` in `reply`, failing the test when there is none or
 * several. (Lines at other paths clear an older cookie of the same name: see cookies.test.ts.)
 */
export function cookieNamed(reply: HttpReply, name: string, path = '/'): SetCookie {
  const found = reply.cookies.filter((c) => c.name === name && c.attributes['path'] === path);
  assert.equal(found.length, 1, `expected one ${name} cookie, got: ${JSON.stringify(reply.headers.getSetCookie())}`);
  return found[0]!;
}

/** Asserts `reply` clears the refresh cookie at `path`: empty value, `Max-Age=0`, same scope as when set. */
export function assertCookieCleared(reply: HttpReply, name: string, path = '/'): void {
  const found = reply.cookies.filter((c) => c.name === name && c.attributes['path'] === path);
  assert.equal(found.length, 1, `expected one ${name} cookie at Path=${path}, got: ${JSON.stringify(reply.headers.getSetCookie())}`);
  const cookie = found[0]!;
  assert.equal(cookie.value, '');
  assert.equal(cookie.attributes['max-age'], '0');
}

/** Asserts `reply` sets no cookie at all. */
export function assertNoCookie(reply: HttpReply): void {
  assert.deepEqual(reply.headers.getSetCookie(), [], 'no Set-Cookie expected');
}

/** Header and claims of a compact JWS, unverified. */
export function decodeJwt(token: string): { header: JsonObject; payload: JsonObject } {
  const [header = '', payload = ''] = token.split('.');
  const part = (segment: string): JsonObject => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as JsonObject;
  return { header: part(header), payload: part(payload) };
}

/**
 * Signs `payload` with HMAC-SHA-256 under `secret` (UTF-8), for tokens the server did not issue.
 * `header` may be given as raw JSON text, to send what a JSON serialiser would not (duplicate names).
 */
export function signHs256(payload: JsonObject | string, secret: string, header: JsonObject | string = { alg: 'HS256', typ: 'at+jwt' }): string {
  const encode = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${createHmac('sha256', Buffer.from(secret, 'utf8')).update(input).digest('base64url')}`;
}

/** A copy of a real access token with some claims changed, re-signed under `secret`. */
export function forgeFrom(token: string, changes: JsonObject, secret: string, header?: JsonObject | string): string {
  const { header: original, payload } = decodeJwt(token);
  const claims: JsonObject = { ...payload, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete claims[name];
  return signHs256(claims, secret, header ?? original);
}

/** Waits until `check` is true; resolves to the milliseconds it took, or rejects after `within` ms. */
export async function eventually(check: () => Promise<boolean>, within: number, what: string, every = 100): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > within) assert.fail(`${what}: not within ${within} ms`);
    await sleep(every);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts that none of `secrets` appears in `output` (the server's log). */
export function assertNoSecrets(output: string, secrets: Iterable<string>): void {
  for (const secret of secrets) {
    assert.ok(!output.includes(secret), `the server's output contains a secret (${secret.length} characters) the test sent or received`);
  }
}
