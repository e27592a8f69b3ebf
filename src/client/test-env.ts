// A scripted browser for the client's unit tests: a clock and timers the test drives, an in-memory auth
// server behind a fake fetch, fake storage, window events, Web Locks, and node's real BroadcastChannel.
import type { TestContext } from 'node:test';

/** Lets pending promise jobs and I/O callbacks (fake fetch bodies, channel messages) run to completion. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Timer {
  at: number;
  id: number;
  fn: () => void;
}

/** Wall clock and timers under the test's control. `jump` moves the clock without firing timers (a sleep). */
export class FakeClock {
  now = 1_700_000_000_000;
  readonly errors: unknown[] = [];
  private readonly timers = new Map<number, Timer>();
  private seq = 0;

  setTimeout = (fn: () => void, ms = 0): number => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.now + Math.max(0, Number(ms) || 0), id, fn });
    return id;
  };

  clearTimeout = (id: unknown): void => {
    this.timers.delete(id as number);
  };

  /** Advances the clock by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      await settle();
      let next: Timer | undefined;
      for (const t of this.timers.values()) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.now = Math.max(this.now, next.at);
      try {
        next.fn();
      } catch (error) {
        this.errors.push(error);
      }
    }
    this.now = target;
    await settle();
  }

  /** Moves the wall clock as a sleeping laptop or a throttled tab sees it: no timer fires. */
  jump(ms: number): void {
    this.now += ms;
  }

  /** Delays of the pending timers from now, sorted. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }
}

/** An in-memory Storage that remembers every value ever written. */
export class FakeStorage {
  readonly map = new Map<string, string>();
  readonly writes: string[] = [];
  get length(): number {
    return this.map.size;
  }
  key(i: number): string | null {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k: string): string | null {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.writes.push(`${k}=${v}`);
    this.map.set(k, String(v));
  }
  removeItem(k: string): void {
    this.map.delete(k);
  }
  clear(): void {
    this.map.clear();
  }
}

/** An exclusive Web Lock manager; `stuck` simulates a tab that holds the lock and never lets go. */
export class FakeLocks {
  held = false;
  stuck = false;
  grants = 0;
  private readonly queue: Array<() => void> = [];

  request(
    _name: string,
    options: { signal?: AbortSignal; ifAvailable?: boolean },
    callback: (lock: object | null) => Promise<unknown>,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const run = (): void => {
        this.held = true;
        this.grants++;
        Promise.resolve({})
          .then(callback)
          .then(resolve, reject)
          .finally(() => {
            this.held = false;
            this.queue.shift()?.();
          });
      };
      if (!this.held && !this.stuck) return run();
      if (options.ifAvailable) return void Promise.resolve(null).then(callback).then(resolve, reject);
      this.queue.push(run);
      options.signal?.addEventListener('abort', () => {
        const i = this.queue.indexOf(run);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
}

export interface RecordedRequest {
  method: string;
  url: string;
  /** `METHOD pathname` for auth-server URLs, `METHOD full-url` for others. */
  route: string;
  headers: Headers;
  credentials: RequestCredentials;
  body: string;
}

type Route = (req: Request, body: string) => Response | Promise<Response>;

export const APP = 'https://app.test';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Token responses, sessions and a protected resource, at https://app.test, https://api.test and a third party. */
export class FakeAuthServer {
  ttl = 600;
  user = { id: 'u-1', username: 'ada' };
  /** Whether the browser's refresh cookie is currently valid. */
  session = false;
  readonly requests: RecordedRequest[] = [];
  readonly routes = new Map<string, Route>();
  private readonly revoked = new Set<string>();
  private seq = 0;

  constructor(private readonly clock: FakeClock) {}

  /** Number of requests to `route` (e.g. `POST /auth/refresh`). */
  count(route: string): number {
    return this.requests.filter((r) => r.route === route).length;
  }

  issue(user = this.user, lifetime = this.ttl): string {
    const iat = Math.floor(this.clock.now / 1000) + ++this.seq / 1000;
    return `${b64url({ alg: 'HS256', typ: 'at+jwt' })}.${b64url({ sub: user.id, iat, exp: iat + lifetime, jti: String(this.seq) })}.sig`;
  }

  revoke(token: string): void {
    this.revoked.add(token);
  }

  valid(token: string | undefined): boolean {
    if (!token || this.revoked.has(token)) return false;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
    return claims.exp * 1000 > this.clock.now;
  }

  tokenResponse(status = 200, user = this.user): Response {
    this.session = true;
    return json(status, { access_token: this.issue(user), token_type: 'Bearer', expires_in: this.ttl, user });
  }

  bearer(req: Request): string | undefined {
    return /^Bearer (.+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
  }

  protected(req: Request, ok: () => Response): Response {
    const token = this.bearer(req);
    if (this.valid(token)) return ok();
    return json(401, { error: token ? 'invalid_token' : 'missing_token' }, {
      'www-authenticate': token ? 'Bearer realm="hush", error="invalid_token"' : 'Bearer realm="hush"',
    });
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const route = `${req.method} ${url.origin === APP ? url.pathname : url.href}`;
    const body = req.body ? await req.clone().text() : '';
    this.requests.push({ method: req.method, url: req.url, route, headers: req.headers, credentials: req.credentials, body });
    const handler = this.routes.get(route) ?? this.defaultRoute(route);
    if (req.signal.aborted) throw new DOMException('aborted', 'AbortError');
    return handler(req, body);
  };

  private defaultRoute(route: string): Route {
    switch (route) {
      case 'POST /auth/refresh':
        return () => (this.session ? this.tokenResponse() : json(401, { error: 'invalid_refresh_token' }));
      case 'POST /auth/login':
        return () => this.tokenResponse();
      case 'POST /auth/signup':
        return () => this.tokenResponse(201);
      case 'POST /auth/logout':
        return () => {
          this.session = false;
          return new Response(null, { status: 204 });
        };
      case 'POST /auth/logout-all':
        return (req) => this.protected(req, () => ((this.session = false), new Response(null, { status: 204 })));
      case 'POST /auth/password':
        return (req) => this.protected(req, () => this.tokenResponse());
      default:
        return (req) => this.protected(req, () => json(200, { ok: true, route }));
    }
  }
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A fetch route that never answers until its request is aborted. */
export const hang: Route = (req) =>
  new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));

export interface Env {
  clock: FakeClock;
  server: FakeAuthServer;
  storage: FakeStorage;
  session: FakeStorage;
  window: EventTarget;
  locks: FakeLocks | undefined;
  /** Dispatches a window event (focus, online, pageshow, visibilitychange). */
  fire(type: string): Promise<void>;
}

/**
 * Installs the fake browser globals for one test and removes them when it ends. `locks: true` gives the page
 * Web Locks; by default it has none.
 */
export function installEnv(t: TestContext, options: { locks?: boolean; hint?: boolean } = {}): Env {
  const clock = new FakeClock();
  const server = new FakeAuthServer(clock);
  const storage = new FakeStorage();
  const session = new FakeStorage();
  const window = new EventTarget();
  const locks = options.locks ? new FakeLocks() : undefined;
  const channels: BroadcastChannel[] = [];
  const RealChannel = globalThis.BroadcastChannel;
  class Channel extends RealChannel {
    constructor(name: string) {
      super(name);
      channels.push(this);
    }
  }
  const realNow = Date.now;
  const saved = new Map<string, PropertyDescriptor | undefined>();
  const set = (name: string, value: unknown): void => {
    saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  };
  set('setTimeout', clock.setTimeout);
  set('clearTimeout', clock.clearTimeout);
  set('fetch', server.fetch);
  set('localStorage', storage);
  set('sessionStorage', session);
  set('location', new URL(`${APP}/app/page`));
  set('addEventListener', window.addEventListener.bind(window));
  set('navigator', locks ? { locks } : undefined);
  set('BroadcastChannel', Channel);
  Date.now = () => clock.now;
  if (options.hint) storage.setItem('hush:session', '1');
  t.after(() => {
    Date.now = realNow;
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete (globalThis as Record<string, unknown>)[name];
    }
    for (const channel of channels) channel.close();
  });
  return {
    clock,
    server,
    storage,
    session,
    window,
    locks,
    async fire(type) {
      window.dispatchEvent(new Event(type));
      await settle();
    },
  };
}
