import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { attachAxios } from './axios.js';
import { createAuthClient } from './index.js';
import type { AuthClient } from './index.js';
import { installEnv, json } from './test-env.js';
import type { Env } from './test-env.js';

// A stand-in for axios with the same interceptor contract (request interceptors run last-added first, then
// the adapter, then response interceptors in order; `request` copies the config it is given, the way
// axios's mergeConfig does), so the adapter is tested without axios installed.

/** Header bag like axios 1.x's AxiosHeaders: `set`/`get`, names matched without case. */
class FakeAxiosHeaders {
  [name: string]: unknown;
  static from(init: unknown): FakeAxiosHeaders {
    const headers = new FakeAxiosHeaders();
    for (const [k, v] of Object.entries((init as Record<string, unknown>) ?? {})) if (typeof v === 'string') headers.set(k, v);
    return headers;
  }
  set(name: string, value: string): void {
    this[name.toLowerCase()] = value;
  }
  get(name: string): unknown {
    return this[name.toLowerCase()];
  }
}

interface FakeConfig {
  url?: string;
  baseURL?: string;
  method?: string;
  data?: string;
  headers: FakeAxiosHeaders | Record<string, string>;
}
interface FakeResponse {
  status: number;
  headers: FakeAxiosHeaders | Record<string, string>;
  data: unknown;
  config: FakeConfig;
}
type Handler<V> = { f?: ((v: V) => V | Promise<V>) | null; r?: ((e: unknown) => unknown) | null } | null;

function manager<V>(list: Handler<V>[]) {
  return {
    use(f?: ((v: V) => V | Promise<V>) | null, r?: ((e: unknown) => unknown) | null): number {
      return list.push({ f, r }) - 1;
    },
    eject(id: number): void {
      list[id] = null;
    },
  };
}

function fakeAxios(defaults: { baseURL?: string; plainHeaders?: boolean } = {}) {
  const requests: Handler<FakeConfig>[] = [];
  const responses: Handler<FakeResponse>[] = [];
  const toHeaders = (h: Headers): FakeResponse['headers'] => {
    const plain = Object.fromEntries(h.entries());
    return defaults.plainHeaders ? plain : FakeAxiosHeaders.from(plain);
  };
  const dispatch = async (config: FakeConfig): Promise<FakeResponse> => {
    const url = /^[a-z]+:\/\//.test(config.url ?? '') || !config.baseURL ? config.url! : `${config.baseURL}/${config.url!.replace(/^\//, '')}`;
    const headers = Object.fromEntries(Object.entries(config.headers).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const res = await fetch(new URL(url, location.href), { method: config.method ?? 'GET', headers, body: config.data });
    const text = await res.text();
    const response = { status: res.status, headers: toHeaders(res.headers), data: text ? JSON.parse(text) : '', config };
    if (res.status >= 400) throw Object.assign(new Error(`Request failed with status code ${res.status}`), { config, response });
    return response;
  };
  return {
    interceptors: { request: manager(requests), response: manager(responses) },
    request(config: Partial<FakeConfig>): Promise<FakeResponse> {
      const merged: FakeConfig = {
        baseURL: defaults.baseURL,
        ...config,
        headers: defaults.plainHeaders ? { ...(config.headers as Record<string, string>) } : FakeAxiosHeaders.from(config.headers),
      };
      let chain: Promise<unknown> = Promise.resolve(merged);
      for (const h of [...requests].reverse()) if (h) chain = chain.then(h.f as (v: unknown) => unknown, h.r);
      chain = chain.then((c) => dispatch(c as FakeConfig));
      for (const h of responses) if (h) chain = chain.then(h.f as (v: unknown) => unknown, h.r);
      return chain as Promise<FakeResponse>;
    },
    get: function (this: { request(c: Partial<FakeConfig>): Promise<FakeResponse> }, url: string) {
      return this.request({ url, method: 'GET' });
    },
  };
}

async function setup(t: TestContext, defaults?: { baseURL?: string; plainHeaders?: boolean }): Promise<{ env: Env; auth: AuthClient; api: ReturnType<typeof fakeAxios> }> {
  const env = installEnv(t, { hint: true });
  env.server.session = true;
  const auth = createAuthClient({ apiOrigins: ['https://api.test'] });
  await auth.ready;
  const api = fakeAxios(defaults);
  attachAxios(api, auth);
  return { env, auth, api };
}

describe('hush-auth/client/axios', () => {
  it('sends the Bearer token to the auth origin and apiOrigins only', async (t) => {
    const { env, auth, api } = await setup(t, { baseURL: '/api' });
    const token = await auth.getAccessToken();
    env.server.routes.set('GET https://third.test/x', () => json(200, {}));
    await api.get('private');
    await api.get('https://api.test/v1/x');
    await api.get('https://third.test/x');
    assert.deepEqual(env.server.requests.slice(1).map((r) => [r.route, r.headers.get('authorization')]), [
      ['GET /api/private', `Bearer ${token}`],
      ['GET https://api.test/v1/x', `Bearer ${token}`],
      ['GET https://third.test/x', null],
    ]);
  });

  it('works with plain-object headers (axios 0.x)', async (t) => {
    const { env, auth, api } = await setup(t, { plainHeaders: true });
    const res = await api.get('/api/private');
    assert.equal(res.status, 200);
    assert.equal(env.server.requests.at(-1)!.headers.get('authorization'), `Bearer ${await auth.getAccessToken()}`);
  });

  it('refreshes once and retries once after 401 invalid_token', async (t) => {
    const { env, auth, api } = await setup(t);
    env.server.revoke((await auth.getAccessToken())!);
    const res = await api.request({ url: '/api/things', method: 'POST', data: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    assert.deepEqual(env.server.requests.filter((r) => r.route === 'POST /api/things').map((r) => r.body), ['{"a":1}', '{"a":1}']);
  });

  it('shares one refresh between concurrent rejected requests', async (t) => {
    const { env, auth, api } = await setup(t);
    env.server.revoke((await auth.getAccessToken())!);
    const all = await Promise.all(Array.from({ length: 20 }, () => api.get('/api/private')));
    assert.deepEqual(new Set(all.map((r) => r.status)), new Set([200]));
    assert.equal(env.server.count('POST /auth/refresh'), 2);
  });

  it('never retries twice', async (t) => {
    const { env, api } = await setup(t);
    env.server.routes.set('GET /api/private', () => json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }));
    await assert.rejects(api.get('/api/private'), /401/);
    assert.equal(env.server.count('GET /api/private'), 2);
  });

  it('never retries /auth/* calls, nor a 401 that is not invalid_token, nor a third party', async (t) => {
    const { env, auth, api } = await setup(t);
    env.server.revoke((await auth.getAccessToken())!);
    await assert.rejects(api.get('/auth/me'), /401/);
    env.server.routes.set('GET /api/other', () => json(401, { error: 'missing_token' }));
    await assert.rejects(api.get('/api/other'), /401/);
    env.server.routes.set('GET https://third.test/x', () => json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }));
    await assert.rejects(api.get('https://third.test/x'), /401/);
    assert.equal(env.server.count('POST /auth/refresh'), 1);
    assert.equal(env.server.requests.length, 4);
  });

  it('adopts x-access-token for the same user from its own origins only', async (t) => {
    const { env, auth, api } = await setup(t);
    const fresh = env.server.issue();
    env.server.routes.set('GET https://third.test/x', () => json(200, {}, { 'x-access-token': env.server.issue() }));
    await api.get('https://third.test/x');
    assert.notEqual(await auth.getAccessToken(), fresh);
    env.server.routes.set('GET /api/sr', () => json(200, {}, { 'x-access-token': fresh }));
    await api.get('/api/sr');
    assert.equal(await auth.getAccessToken(), fresh);
  });

  it('removes its interceptors when detached', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    const auth = createAuthClient();
    await auth.ready;
    const api = fakeAxios();
    const detach = attachAxios(api, auth);
    detach();
    await assert.rejects(api.get('/api/private'), /401/);
    assert.equal(env.server.requests.at(-1)!.headers.get('authorization'), null);
  });
});

// Compile-time check: an instance typed like axios 1.x's (whose config type requires `headers`) is accepted.
interface InternalConfigLike {
  url?: string;
  baseURL?: string;
  headers: { set(name: string, value: string): unknown };
  timeout?: number;
}
interface AxiosInstanceLike {
  interceptors: {
    request: { use(f?: ((v: InternalConfigLike) => InternalConfigLike | Promise<InternalConfigLike>) | null, r?: ((e: unknown) => unknown) | null, o?: object): number; eject(id: number): void; clear(): void };
    response: { use(f?: ((v: { status: number; headers: object; data: unknown; config: InternalConfigLike }) => { status: number; headers: object; data: unknown; config: InternalConfigLike }) | null, r?: ((e: unknown) => unknown) | null): number; eject(id: number): void };
  };
  request<T = unknown>(config: { url?: string }): Promise<T>;
}
export const typeCheck = (instance: AxiosInstanceLike, auth: AuthClient): (() => void) => attachAxios(instance, auth);
