/**
 * The composition root: from a configuration to a listening hush server. Everything with a
 * lifetime (store, revocation feed, counters) is opened here and closed by `close()`.
 */
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { HushConfig } from './config.js';
import { AccessTokens, type ClaimsHook } from './core/access-tokens.js';
import {
  KEY_PUBLISH_LEAD_MS,
  KEY_RELOAD_INTERVAL_MS,
  keyRepository,
  loadSecrets,
  loadSigningKeys,
  previousKeys,
  SigningKeys,
} from './core/keys.js';
import { describeError } from './core/describe-error.js';
import { startMaintenance } from './core/maintenance.js';
import {
  createMemoryCounterStore,
  LoginThrottle,
  RequestLimiter,
  type CounterStore,
} from './core/limits/index.js';
import { PasswordHasher, type PasswordHasherOptions } from './core/password.js';
import { RefreshTokenCodec } from './core/refresh-tokens.js';
import { RevocationFeed, type RevocationAnnouncer } from './core/revocations.js';
import { createSessionStrategy } from './core/sessions/index.js';
import { AuthService, type AuthEvent } from './core/service.js';
import { buildApp } from './http/app.js';
import { createLogger, type Logger } from './http/log.js';
import type { Metrics } from './http/metrics.js';
import { crossSiteOrigins, originWarnings } from './http/origins.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';

/** Programmatic options beyond the environment's. */
export interface HushOptions {
  /** Adds custom claims (roles, say) to every access token. Reserved claims cannot be overridden. */
  readonly claims?: ClaimsHook;
  /** The `client_id` claim of access tokens. Default `hush`. */
  readonly clientId?: string;
  /** Password hashing parameters and concurrency. */
  readonly hashing?: PasswordHasherOptions;
  /** A pino logger to use, or false for none (default: pino at the configured level, secrets redacted). */
  readonly logger?: Logger | false;
  /** Verified-token cache size (0 turns it off). Default 10 000. */
  readonly tokenCacheSize?: number;
  /**
   * EdDSA/ES256 key rotation while running: how often to look for keys `hush keys rotate` added
   * (default 60 s), and how long a new key is published before it signs (default 2 min; keep it
   * above the interval, so every instance knows a key before any signs with it).
   */
  readonly keyRotation?: { readonly reloadIntervalMs?: number; readonly publishLeadMs?: number };
}

/** A hush instance: the app, and what it runs on. */
export interface Hush {
  readonly app: FastifyInstance;
  readonly service: AuthService;
  readonly store: Store;
  readonly config: HushConfig;
  /** The server's log (pino). */
  readonly log: Logger;
  /** Listens on the configured host and port (and the metrics port, when on); resolves to the URL. */
  listen(): Promise<string>;
  /** Stops accepting requests, lets the running ones finish, and closes everything. */
  close(): Promise<void>;
}

/** The core pieces shared by the server and the CLI. */
export interface Core {
  readonly service: AuthService;
  readonly store: Store;
  readonly feed: RevocationFeed;
  readonly keys: SigningKeys;
  readonly counters: CounterStore | undefined;
  readonly limiter: RequestLimiter | undefined;
  close(): Promise<void>;
}

/** What the core reports, for logs and metrics. */
export interface CoreObservers {
  readonly onEvent?: (event: AuthEvent) => void;
  readonly onError?: (error: unknown) => void;
  /** Degraded service (Redis unreachable, say): a message with no secret in it. Default `console.warn`. */
  readonly onWarning?: (message: string) => void;
  readonly metrics?: Metrics | undefined;
}

/** Opens the store (migrating it) and assembles the auth service for `config`. */
export async function openCore(config: HushConfig, options: HushOptions = {}, observers: CoreObservers = {}): Promise<Core> {
  const { metrics } = observers;
  const onEvent = (event: AuthEvent): void => {
    metrics?.record(event);
    observers.onEvent?.(event);
  };
  const store = await openStore(config.databaseUrl);
  // Declared out here so that a failure part-way through closes whatever was already opened.
  let announcer: RevocationAnnouncer | undefined;
  let feed: RevocationFeed | undefined;
  let counters: CounterStore | undefined;
  try {
    // Secrets first: a cluster without explicit secrets must not touch the database at all.
    const secrets = await loadSecrets(config, store);
    await store.migrate();
    const repo = keyRepository(config, store);
    const publishLeadMs = options.keyRotation?.publishLeadMs ?? KEY_PUBLISH_LEAD_MS;
    const keys = new SigningKeys(await loadSigningKeys(config, secrets, repo, { publishLeadMs }));
    const accessTokens = new AccessTokens({
      signingKeys: keys.current,
      previousKeys: previousKeys(config),
      algorithm: config.jwtAlg,
      issuer: config.issuer,
      audience: config.audience,
      clientId: options.clientId ?? 'hush',
      ttl: config.accessTtl,
      claims: options.claims,
      cacheSize: options.tokenCacheSize ?? 10_000,
    });
    // ioredis (like pg and prom-client) is loaded only when configured: the embedded default stays small.
    announcer = config.redisUrl
      ? (await import('./core/redis-announcer.js')).createRedisAnnouncer(config.redisUrl, { warn: observers.onWarning })
      : undefined;
    const revocations = new RevocationFeed(store, {
      onError: observers.onError,
      onPublish: metrics ? (revocation) => metrics.revoked(revocation) : undefined,
      announcer,
    });
    feed = revocations;
    await revocations.start();
    counters = config.rateLimit
      ? config.redisUrl
        ? (await import('./core/limits/redis-store.js')).createRedisCounterStore(config.redisUrl, { prefix: 'hush:rl:', warn: observers.onWarning })
        : createMemoryCounterStore()
      : undefined;
    const sessions = createSessionStrategy(config.refreshStrategy, {
      codec: new RefreshTokenCodec(secrets.refreshSecret),
      policy: { refreshTtl: config.refreshTtl, sessionMax: config.sessionMax, reuseGrace: config.reuseGrace, clock: Date.now },
      store,
      revokeAccess: (sessionId) =>
        revocations.publish({ kind: 'session', sessionId, expiresAt: new Date(Date.now() + (config.accessTtl + 60) * 1000) }),
      onReuse: (session) => onEvent({ type: 'refresh_reuse', userId: session.userId }),
    });
    const service = new AuthService({
      store,
      hasher: new PasswordHasher({ concurrency: Math.max(1, availableParallelism() - 1), ...options.hashing }),
      accessTokens,
      sessions,
      revocations,
      throttle: counters ? new LoginThrottle(counters) : undefined,
      onEvent,
    });
    const stopMaintenance = startMaintenance(store, (error) => observers.onError?.(error));
    // Keys added by `hush keys rotate` (here or on another instance) are picked up without a restart.
    const keyReload =
      config.jwtAlg === 'HS256'
        ? undefined
        : setInterval(() => {
            loadSigningKeys(config, secrets, repo, { publishLeadMs })
              .then((next) => {
                if (keys.replace(next)) accessTokens.useKeys(next);
              })
              .catch((error: unknown) => {
                (observers.onWarning ?? console.warn)(
                  `hush: reloading the signing keys failed (${describeError(error)}); the current keys stay in use`,
                );
              });
          }, options.keyRotation?.reloadIntervalMs ?? KEY_RELOAD_INTERVAL_MS);
    keyReload?.unref();
    const opened = { announcer, counters };
    return {
      service,
      store,
      feed: revocations,
      keys,
      counters,
      limiter: counters ? new RequestLimiter(counters) : undefined,
      async close() {
        stopMaintenance();
        clearInterval(keyReload);
        await revocations.stop();
        await opened.announcer?.close();
        await opened.counters?.close();
        await store.close();
      },
    };
  } catch (error) {
    await feed?.stop().catch(() => undefined);
    await announcer?.close().catch(() => undefined);
    await counters?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** Builds a hush server for `config` (not yet listening; `listen()` starts it and the metrics port). */
export async function createHush(config: HushConfig, options: HushOptions = {}): Promise<Hush> {
  const log = options.logger === false ? createLogger('silent') : (options.logger ?? createLogger(config.logLevel));
  const metrics = config.metricsPort === undefined ? undefined : new (await import('./http/metrics.js')).Metrics();
  const core = await openCore(config, options, {
    metrics,
    // Routine successes are per-request noise (debug); failures and credential events are the audit trail (info).
    onEvent: (event) => {
      const level = ROUTINE_EVENTS.has(event.type) ? 'debug' : 'info';
      log[level]({ event: event.type, ...eventFields(event) }, 'auth event');
    },
    onError: (error) => log.warn({ code: (error as { code?: unknown }).code }, 'revocation feed: polling failed'),
    onWarning: (message) => log.warn(message),
  });
  const app = await buildApp({
    config,
    service: core.service,
    store: core.store,
    keys: core.keys,
    limiter: core.limiter,
    log,
    metrics,
  }).catch(async (error: unknown) => {
    await core.close().catch(() => undefined);
    throw error;
  });
  for (const origin of crossSiteOrigins(config)) {
    log.warn({ origin }, 'HUSH_ALLOWED_ORIGINS lists an origin that is not same-site with HUSH_PUBLIC_ORIGIN: the SameSite refresh cookie will not reach it');
  }
  for (const warning of originWarnings(config)) log.warn(warning);
  let metricsServer: Server | undefined;
  return {
    app,
    service: core.service,
    store: core.store,
    config,
    log,
    async listen() {
      const url = await app.listen({ port: config.port, host: config.host });
      if (metrics && config.metricsPort !== undefined) {
        metricsServer = await metrics.listen(config.metricsPort, config.host);
        const address = metricsServer.address();
        log.info({ url: `http://${config.host}:${typeof address === 'object' && address ? address.port : config.metricsPort}/metrics` }, 'metrics listening');
      }
      return url;
    },
    async close() {
      // Fastify stops accepting, answers 503 to new requests on kept-alive sockets, and waits for the running ones.
      await app.close();
      if (metricsServer) await new Promise((resolve) => metricsServer!.close(resolve));
      await core.close();
    },
  };
}

const ROUTINE_EVENTS = new Set<AuthEvent['type']>(['login', 'refresh', 'logout']);

function eventFields(event: AuthEvent): Record<string, string> {
  const fields: Record<string, string> = {};
  if ('userId' in event) fields['userId'] = event.userId;
  if ('reason' in event) fields['reason'] = event.reason;
  return fields;
}
