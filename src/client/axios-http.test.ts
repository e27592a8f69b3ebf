/**
 * The axios adapter with the real axios library (its Node http adapter, its header class, its config
 * merging and data transforms) against real local HTTP servers: an auth server with a protected API, and
 * a third party on another origin. The fake axios of axios.test.ts covers the interceptor contract; this
 * proves the adapter works with what axios really does.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import axios, { AxiosError } from 'axios';
import type { AxiosInstance } from 'axios';
import { attachAxios } from './axios.js';
import { createAuthClient } from './index.js';
import type { AuthClient } from './index.js';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A real HTTP server on 127.0.0.1 that records every request and answers through `routes` or `fallback`. */
async function listen(t: TestContext, fallback: Handler): Promise<{ origin: string; seen: Seen[]; routes: Map<string, Handler>; count(route: string): number }> {
  const seen: Seen[] = [];
  const routes = new Map<string, Handler>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      (routes.get(`${req.method} ${path}`) ?? fallback)(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.keepAliveTimeout = 100;
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    routes,
    count: (route) => seen.filter((s) => `${s.method} ${s.path}` === route).length,
  };
}

/** The auth server and its API: refresh always succeeds, tokens are refused once revoked. */
async function authServer(t: TestContext) {
  const user = { id: 'u-1', username: 'ada' };
  const revoked = new Set<string>();
  let seq = 0;
  const issue = (): string => {
    seq++;
    const iat = Math.floor(Date.now() / 1000) + seq / 1000;
    return `${b64url({ alg: 'HS256', typ: 'at+jwt' })}.${b64url({ sub: user.id, iat, exp: iat + 600, jti: String(seq) })}.sig`;
  };
  const bearer = (req: IncomingMessage): string | undefined => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const valid = (req: IncomingMessage): boolean => {
    const token = bearer(req);
    return token !== undefined && token.endsWith('.sig') && !revoked.has(token);
  };
  const server = await listen(t, (req, res, body) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/auth/refresh') {
      return sendJson(res, 200, { access_token: issue(), token_type: 'Bearer', expires_in: 600, user });
    }
    if (req.method === 'POST' && path === '/auth/logout') return void res.writeHead(204).end();
    if (!valid(req)) {
      return sendJson(res, 401, { error: 'invalid_token', error_description: 'no' }, { 'www-authenticate': 'Bearer realm="hush", error="invalid_token"' });
    }
    sendJson(res, 200, { ok: true, path, body });
  });
  return { ...server, issue, revoke: (token: string) => revoked.add(token), bearer, valid };
}

/**
 * A signed-in client (its refresh succeeds at start-up) with a real axios instance attached. Node's
 * BroadcastChannel and the client's refresh timer would keep the file alive: the client logs out and the
 * channels close when the test ends.
 */
async function setup(t: TestContext): Promise<{ auth: AuthClient; api: AxiosInstance; server: Awaited<ReturnType<typeof authServer>>; detach: () => void }> {
  const server = await authServer(t);
  const Real = globalThis.BroadcastChannel;
  const channels: BroadcastChannel[] = [];
  globalThis.BroadcastChannel = class extends Real {
    constructor(name: string) {
      super(name);
      channels.push(this);
    }
  };
  let auth: AuthClient;
  try {
    auth = createAuthClient({ baseUrl: `${server.origin}/auth` });
  } finally {
    globalThis.BroadcastChannel = Real;
  }
  t.after(async () => {
    // The servers may already be closed: logout still signs out locally, which stops the timer.
    await auth.logout().catch(() => undefined);
    for (const channel of channels) channel.close();
  });
  await auth.ready;
  assert.equal(auth.state, 'authenticated');
  const api = axios.create({ baseURL: `${server.origin}/api`, timeout: 10_000 });
  const detach = attachAxios(api, auth);
  return { auth, api, server, detach };
}

/** Awaits `promise`, failing within `ms` of real time rather than at the file's timeout (a retry loop). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('hush-auth/client/axios with the real axios over HTTP', () => {
  it('sends the Bearer token to the API origin and never to another origin', async (t) => {
    const { auth, api, server } = await setup(t);
    const third = await listen(t, (_req, res) => sendJson(res, 200, {}));
    const token = await auth.getAccessToken();
    assert.deepEqual((await api.get('private')).data, { ok: true, path: '/api/private', body: '' });
    await api.get(`${third.origin}/x`);
    assert.equal(server.seen.at(-1)?.authorization, `Bearer ${token}`);
    assert.deepEqual(third.seen.map((s) => s.authorization), [undefined]);
  });

  it('after a 401 invalid_token refreshes once and retries once with the new token, replaying the JSON body', async (t) => {
    const { auth, api, server } = await setup(t);
    const old = (await auth.getAccessToken())!;
    server.revoke(old);
    const res = await within(api.post('things', { a: 1 }), 10_000, 'the retried POST');
    assert.equal(res.status, 200);
    const posts = server.seen.filter((s) => s.path === '/api/things');
    assert.deepEqual(posts.map((p) => p.body), ['{"a":1}', '{"a":1}']);
    assert.equal(posts[0]!.authorization, `Bearer ${old}`);
    assert.equal(posts[1]!.authorization, `Bearer ${await auth.getAccessToken()}`);
    assert.notEqual(posts[1]!.authorization, posts[0]!.authorization);
    assert.equal(server.count('POST /auth/refresh'), 2, 'start-up and one refresh');
  });

  it('concurrent rejected requests share one refresh', async (t) => {
    const { auth, api, server } = await setup(t);
    server.revoke((await auth.getAccessToken())!);
    const all = await within(Promise.all(Array.from({ length: 10 }, () => api.get('private'))), 10_000, 'ten retried GETs');
    assert.deepEqual(new Set(all.map((r) => r.status)), new Set([200]));
    assert.equal(server.count('POST /auth/refresh'), 2);
  });

  it('never retries more than once, and the call settles promptly', async (t) => {
    const { api, server } = await setup(t);
    server.routes.set('GET /api/always', (_req, res) =>
      sendJson(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }),
    );
    const error = await within(api.get('always').then(() => undefined, (thrown: unknown) => thrown), 10_000, 'a GET answered 401 every time');
    assert.ok(error instanceof AxiosError && error.response?.status === 401);
    assert.equal(server.count('GET /api/always'), 2);
  });

  it('does not refresh for a 401 that is not invalid_token, nor retry calls to the auth API', async (t) => {
    const { auth, api, server } = await setup(t);
    server.revoke((await auth.getAccessToken())!);
    server.routes.set('GET /api/other', (_req, res) => sendJson(res, 401, { error: 'missing_token' }));
    await assert.rejects(api.get('other'), (e: unknown) => e instanceof AxiosError && e.response?.status === 401);
    await assert.rejects(api.get(`${server.origin}/auth/me`), (e: unknown) => e instanceof AxiosError && e.response?.status === 401);
    assert.equal(server.count('GET /api/other'), 1);
    assert.equal(server.count('GET /auth/me'), 1);
    assert.equal(server.count('POST /auth/refresh'), 1);
  });

  it('adopts an x-access-token answer (read through AxiosHeaders) for the same user, from its own origin only', async (t) => {
    const { auth, api, server } = await setup(t);
    const fresh = server.issue();
    const third = await listen(t, (_req, res) => sendJson(res, 200, {}, { 'x-access-token': server.issue() }));
    await api.get(`${third.origin}/x`);
    assert.notEqual(await auth.getAccessToken(), fresh);
    server.routes.set('GET /api/sr', (_req, res) => sendJson(res, 200, {}, { 'x-access-token': fresh }));
    await api.get('sr');
    assert.equal(await auth.getAccessToken(), fresh);
    await api.get('private');
    assert.equal(server.seen.at(-1)?.authorization, `Bearer ${fresh}`);
  });

  it('removes its interceptors when detached', async (t) => {
    const { api, server, detach } = await setup(t);
    detach();
    await assert.rejects(api.get('private'), (e: unknown) => e instanceof AxiosError && e.response?.status === 401);
    assert.equal(server.seen.at(-1)?.authorization, undefined);
    assert.equal(server.count('POST /auth/refresh'), 1);
  });
});
