/**
 * `hush-auth/revocations`: lets a resource service refuse revoked access tokens as promptly as the hush
 * server does, by following the server's revocation feed in its database.
 *
 * ```ts
 * import { hushAuth } from 'hush-auth/fastify';
 * import { followRevocations } from 'hush-auth/revocations';
 * const revocations = await followRevocations({ databaseUrl: process.env.DATABASE_URL!, redisUrl: process.env.REDIS_URL });
 * await app.register(hushAuth, { secret: process.env.HUSH_SECRET!, revocations });
 * app.addHook('onClose', () => revocations.close());
 * ```
 */
import { describeError } from './core/describe-error.js';
import type { AccessClaims, RevocationCheck } from './middleware/core.js';
import { RevocationFeed, type RevocationAnnouncer } from './core/revocations.js';
import { isPostgresUrl, openStore, type Store } from './store/index.js';

/** Options of {@link followRevocations}. */
export interface FollowRevocationsOptions {
  /** The hush server's `DATABASE_URL`: `postgres://…`, or the path of its SQLite file (same machine). */
  readonly databaseUrl: string;
  /** The server's `REDIS_URL`, if it has one: notices then arrive at once instead of at the next poll. */
  readonly redisUrl?: string | undefined;
  /** How often to poll for notices, in ms. Default 1000, as the server. */
  readonly pollInterval?: number;
  /**
   * Told when a poll fails (the database is unreachable, say). Polling goes on, and the notices already
   * known stay in force. Default: a warning on the console at most once a minute, naming only the code.
   */
  readonly onError?: (error: unknown) => void;
}

/** A running subscription: hand it to a guard as `revocations`, close it on shutdown. */
export interface RevocationSubscription extends RevocationCheck {
  /** Stops following the feed and closes its connections. */
  close(): Promise<void>;
}

/** Thrown by {@link followRevocations} when the feed cannot be read at all. */
export class RevocationFeedError extends Error {
  readonly code = 'revocation_feed_unavailable';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevocationFeedError';
  }
}

/**
 * Loads the live revocation notices of the hush server whose database is `databaseUrl`, then follows
 * new ones (LISTEN/NOTIFY on PostgreSQL, Redis pub/sub with `redisUrl`, and a poll every second).
 * Reads only: the schema is the server's to create. Rejects with {@link RevocationFeedError} when the
 * database cannot be read or holds no hush tables.
 */
export async function followRevocations(options: FollowRevocationsOptions): Promise<RevocationSubscription> {
  const { databaseUrl } = options;
  if (typeof databaseUrl !== 'string' || databaseUrl === '') throw new TypeError('followRevocations: databaseUrl is required');
  const onError = options.onError ?? throttledWarning();
  let store: Store | undefined;
  let announcer: RevocationAnnouncer | undefined;
  try {
    // A SQLite file is opened read-only and must exist: a wrong path is refused, never created.
    store = await openStore(databaseUrl, { max: 2, onError, readonly: true }).catch((error: unknown) => {
      const what = isPostgresUrl(databaseUrl) ? 'cannot open the database' : 'no readable SQLite database at that path';
      throw new RevocationFeedError(`followRevocations: ${what} (${describeError(error)}); give the hush server’s DATABASE_URL`, { cause: error });
    });
    const userOnError = options.onError;
    const warn = userOnError ? (message: string) => userOnError(new Error(message)) : undefined;
    announcer = options.redisUrl ? (await import('./core/redis-announcer.js')).createRedisAnnouncer(options.redisUrl, { warn }) : undefined;
    const feed = new RevocationFeed(store, { pollInterval: options.pollInterval ?? 1000, onError, announcer });
    await feed.start().catch((error: unknown) => {
      throw new RevocationFeedError(`followRevocations: cannot read the revocation feed (${describeError(error)}); is this the hush server’s database, and has it started once?`, { cause: error });
    });
    const opened = { store, announcer };
    let closing: Promise<void> | undefined;
    return {
      isRevoked(claims: Readonly<AccessClaims>): boolean {
        // Every hush access token carries `ver`; one without it is treated as the oldest version.
        const ver = claims['ver'];
        return feed.list.isRevoked(claims.sub, claims.sid, typeof ver === 'number' ? ver : 0);
      },
      close() {
        closing ??= (async () => {
          await feed.stop();
          await opened.announcer?.close();
          await opened.store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await announcer?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    throw error;
  }
}

function throttledWarning(): (error: unknown) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (error) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    console.warn(`hush-auth/revocations: following the revocation feed failed (${describeError(error)}); known notices stay in force`);
  };
}
