/**
 * Clusters for the cluster specifications: several real `hush start` processes sharing one fresh
 * PostgreSQL database (and Redis), as they would behind a load balancer, plus direct SQL access
 * to that database so a test can look at what the instances agreed on.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { REDIS_TEST_URL, redisSkipReason } from '../../src/core/test-redis.js';
import { createTestPostgresDatabase, postgresSkipReason } from '../../src/store/test-db.js';
import { Api, SECURE_COOKIE } from '../integration/helpers/http.js';
import { startServer, TEST_REFRESH_SECRET, TEST_SECRET, type TestServer } from '../helpers/server.js';

/** The Redis the cluster specifications share counters through. */
export const REDIS_URL = REDIS_TEST_URL;

/**
 * What a cluster suite should do: `false` to run, or a message to skip with. With `CI` set an
 * unreachable PostgreSQL or Redis fails the run instead, since CI must run these specifications.
 */
export async function clusterSkipReason(needs: { redis: boolean } = { redis: true }): Promise<string | false> {
  const postgres = await postgresSkipReason();
  if (postgres) return postgres;
  return needs.redis ? redisSkipReason() : false;
}

/** Several hush instances on one database. */
export interface Cluster {
  readonly instances: TestServer[];
  /** One client per instance, in the same order. */
  readonly apis: Api[];
  /** The environment every instance shares (and the CLI needs to act on the same data). */
  readonly env: Record<string, string>;
  /** The shared database, for looking at rows. */
  readonly db: pg.Pool;
  /** The database's own URL (the instances may reach it through a proxy instead). */
  readonly databaseUrl: string;
  /** Stops every instance that still runs and drops the database. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly size: number;
  /** Environment beyond the database, the secrets and Redis (strategy, grace, rate limit, ...). */
  readonly env?: Record<string, string>;
  /** Connect through Redis (default true). */
  readonly redis?: boolean;
  /**
   * Instead of the database's own URL, give the instances this one (a proxy in front of it):
   * called with the real URL, returns the one to use.
   */
  readonly databaseUrlFor?: (realUrl: string) => string;
}

/**
 * Starts `size` instances on one fresh PostgreSQL database, all at once (so they also race to
 * migrate it, as a rolling start would), with the test secrets and, by default, Redis.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const database = await createTestPostgresDatabase();
  const env: Record<string, string> = {
    DATABASE_URL: options.databaseUrlFor ? options.databaseUrlFor(database.url) : database.url,
    HUSH_SECRET: TEST_SECRET,
    HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET,
    ...(options.redis === false ? {} : { REDIS_URL }),
    ...options.env,
  };
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  db.on('error', () => undefined);
  const started = await Promise.allSettled(Array.from({ length: options.size }, () => startServer({ env })));
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async (): Promise<void> => {
    await Promise.all(instances.map((i) => i.close()));
    await db.end().catch(() => undefined);
    await database.drop().catch(() => undefined);
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { instances, apis: instances.map((i) => new Api(i.url, SECURE_COOKIE)), env, db, databaseUrl: database.url, close };
}

/** The session row of `sid`, as the database holds it. */
export async function sessionRow(db: pg.Pool, sid: string): Promise<{ counter: number; revoked: boolean }> {
  const { rows } = await db.query<{ counter: number; revoked: boolean }>('select counter, revoked from sessions where id = $1', [sid]);
  const row = rows[0];
  if (!row) throw new Error(`no session row ${sid}`);
  return { counter: Number(row.counter), revoked: row.revoked };
}

/**
 * A client address no other test run uses: a random /64 of the documentation prefix 2001:db8::/32
 * (hush counts IPv6 clients per /64), so rate-limit counters shared through Redis start at zero.
 */
export function uniqueAddress(): string {
  const hex = randomBytes(4).toString('hex');
  return `2001:db8:${hex.slice(0, 4)}:${hex.slice(4)}::1`;
}
