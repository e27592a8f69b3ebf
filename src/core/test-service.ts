/**
 * Test support (not part of the build): an {@link AuthService} over a private SQLite `:memory:`
 * store, with cheap argon2 parameters, HS256 access tokens and a revocation feed that is never
 * started — notices this service publishes apply locally, but nothing is read back, so the store
 * alone must catch what the feed would lag behind on. Hooks force an order on concurrent steps.
 */
import { importSecret, KeySet } from '../jwt/index.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { AccessTokens } from './access-tokens.js';
import { AuthError } from './errors.js';
import { PasswordHasher, type PasswordParams } from './password.js';
import { RefreshTokenCodec } from './refresh-tokens.js';
import { RevocationFeed } from './revocations.js';
import { AuthService, type AuthEvent, type RequestContext } from './service.js';
import { createSessionStrategy, type SessionStrategy } from './sessions/index.js';

/** Cheap argon2id parameters: functional specs, not timing. */
export const FAST_PARAMS: Readonly<PasswordParams> = Object.freeze({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

/** The request context of every call. */
export const CTX: RequestContext = { address: '192.0.2.1', userAgent: 'spec' };

export interface TestServiceOptions {
  readonly strategy?: 'stateless' | 'rotating';
  /** Default: {@link FAST_PARAMS}, two threads. */
  readonly hasher?: PasswordHasher;
  /** Wraps the store the service sees; the test keeps the plain one. */
  readonly store?: (store: Store) => Store;
  /** Wraps the session strategy the service sees. */
  readonly sessions?: (sessions: SessionStrategy) => SessionStrategy;
}

export interface TestService {
  readonly service: AuthService;
  /** The plain store, for looking behind the service's back. */
  readonly store: Store;
  readonly hasher: PasswordHasher;
  readonly sessions: SessionStrategy;
  readonly accessTokens: AccessTokens;
  readonly events: AuthEvent[];
  close(): Promise<void>;
}

/** Opens a service over a fresh in-memory database. */
export async function openTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const store = await openSqliteStore(':memory:');
  await store.migrate();
  const accessTokens = new AccessTokens({
    signingKeys: new KeySet([importSecret('spec-access-secret-0123456789-abcdefghij', 'HS256')]),
    algorithm: 'HS256',
    issuer: 'http://hush.test',
    audience: 'http://hush.test',
    clientId: 'hush',
    ttl: 600,
  });
  const revocations = new RevocationFeed(store);
  const plainSessions = createSessionStrategy(options.strategy ?? 'stateless', {
    codec: new RefreshTokenCodec('spec-refresh-secret-0123456789-abcdefghij'),
    policy: { refreshTtl: 3600, sessionMax: 86_400, reuseGrace: 10, clock: Date.now },
    store,
    revokeAccess: (sessionId) => revocations.publish({ kind: 'session', sessionId, expiresAt: new Date(Date.now() + 660_000) }),
  });
  const sessions = options.sessions?.(plainSessions) ?? plainSessions;
  const hasher = options.hasher ?? new PasswordHasher({ params: { ...FAST_PARAMS }, concurrency: 2 });
  const events: AuthEvent[] = [];
  const service = new AuthService({
    store: options.store?.(store) ?? store,
    hasher,
    accessTokens,
    sessions,
    revocations,
    onEvent: (event) => void events.push(event),
  });
  return { service, store, hasher, sessions: plainSessions, accessTokens, events, close: () => store.close() };
}

/** A gate a step waits at until the test opens it; `reached` resolves when the step arrives. */
export interface Gate {
  /** Resolves once something waits at the gate. */
  readonly reached: Promise<void>;
  /** Called by the step: waits until {@link Gate.open}. */
  pass(): Promise<void>;
  open(): void;
}

/** Creates a {@link Gate}. */
export function gate(): Gate {
  let arrive!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (release = resolve));
  return {
    reached,
    async pass() {
      arrive();
      await opened;
    },
    open: () => release(),
  };
}

/** The Store's methods (every member but `kind`). */
export type StoreMethod = Exclude<keyof Store, 'kind'>;
type Method<K extends StoreMethod> = Extract<Store[K], (...args: never[]) => unknown>;

/**
 * `store` with calls of method `name` going through `around`, which calls `proceed` for the real
 * call (or not). Methods run on the real store, so its private fields stay reachable.
 */
export function aroundStoreCall<K extends StoreMethod>(
  store: Store,
  name: K,
  around: (proceed: () => ReturnType<Method<K>>, ...args: Parameters<Method<K>>) => ReturnType<Method<K>>,
): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (prop !== name) return method.bind(target);
      const wrap = around as (proceed: () => unknown, ...args: unknown[]) => unknown;
      return (...args: unknown[]) => wrap(() => method.apply(target, args), ...args);
    },
  });
}

/** A {@link PasswordHasher} that counts its calls and can hold the next `hash` at a gate. */
export class SpyHasher extends PasswordHasher {
  readonly calls = { hash: 0, verify: 0, verifyDummy: 0 };
  /** The next `hash` call waits at this gate (once). */
  holdNextHash: Gate | undefined;

  override async hash(password: string): Promise<string> {
    this.calls.hash++;
    const held = this.holdNextHash;
    this.holdNextHash = undefined;
    await held?.pass();
    return super.hash(password);
  }

  override async verify(passwordHash: string, password: string): ReturnType<PasswordHasher['verify']> {
    this.calls.verify++;
    return super.verify(passwordHash, password);
  }

  override async verifyDummy(password: string): Promise<false> {
    this.calls.verifyDummy++;
    return super.verifyDummy(password);
  }
}

/**
 * An `open` for one spec file: each service it opens is closed after the file's tests. Call it at
 * the top level of the file, where `after` registers on the file's root.
 */
export function servicesClosedAfterAll(): (options?: TestServiceOptions) => Promise<TestService> {
  const opened: TestService[] = [];
  after(async () => {
    await Promise.all(opened.map((t) => t.close()));
  });
  return async (options) => {
    const t = await openTestService(options);
    opened.push(t);
    return t;
  };
}

let counter = 0;
/** A username no other spec of this process uses. */
export const uniqueName = (prefix: string): string => `${prefix}.${process.pid}.${++counter}`;

/** Asserts that `promise` rejects with an AuthError of `code` and `status`. */
export async function refusedWith(promise: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof AuthError && e.code === code && e.status === status);
}
