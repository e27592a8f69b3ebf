/**
 * PostgreSQL through a pg Pool, for several instances sharing one database.
 *
 * Failure behaviour: an unreachable database makes operations reject (a refused connection at
 * once; a silent one after {@link CONNECT_TIMEOUT_MS}); a query on a connection that went silent
 * mid-way rejects after {@link QUERY_TIMEOUT_MS} and the connection is discarded; a connection that
 * breaks while idle or between queries is discarded, never left to crash the process with an
 * unhandled 'error'. So a partition gives prompt 503s, and the instance recovers by itself.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Engine, LockName } from './engine.js';
import { KyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';

/** How long opening a new connection may take (a silent server must not hold a pool slot long). */
const CONNECT_TIMEOUT_MS = 2000;
/**
 * How long a request may wait for a pooled connection, a free one or a new one. Longer than a
 * connection attempt: under a burst, waiting in line is normal and must not turn into 503s.
 */
const POOL_WAIT_MS = 15_000;

/** pg's Client with the short timeout for opening a connection (the pool's own option is the wait). */
class QuickConnectClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super({ ...(typeof config === 'string' ? { connectionString: config } : config), connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  }
}
/** Server-side cap on any one statement, waits for locks included. Auth queries take ms. */
const STATEMENT_TIMEOUT_MS = 6000;
/**
 * Client-side cap on waiting for an answer. The server-side timeout cannot help when the server
 * never sees the query (a partition, a vanished host): without this a pooled connection would
 * wait forever, and with it every request that drew it.
 */
const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 1000;
/** How long an unused pooled connection is kept. */
const IDLE_TIMEOUT_MS = 2000;
/** How often the LISTEN connection proves it is alive (it otherwise only ever receives). */
const LISTEN_HEARTBEAT_MS = 5000;
/** Ends a session stuck inside a transaction, so it cannot hold the store's locks for long. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/** Advisory lock keys: a namespace ("hush" as int32) and one number per lock. */
const LOCK_NAMESPACE = 0x68757368;
const LOCK_IDS: Record<LockName, number> = { migrations: 1, revocations: 2, signing_keys: 3 };

/** The NOTIFY channel revocations are announced on. */
const REVOCATION_CHANNEL = 'hush_revocations';
/** How long a broken listener waits before connecting again. */
const RELISTEN_DELAY_MS = 1000;

/**
 * Listens for revocation announcements on a dedicated connection (LISTEN needs one that is not
 * returned to a pool), reconnecting after a failure. Meanwhile the feed's polling covers the gap.
 */
async function listen(url: string, onChange: () => void, onError: (error: Error) => void): Promise<{ close(): Promise<void> }> {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, application_name: 'hush-listen' });
    const reconnect = (error: Error): void => {
      // After close(), the errors are those of closing: nobody is listening for them.
      if (closed) return;
      onError(error);
      next.removeAllListeners('notification');
      next.end().catch(() => undefined);
      if (!closed && client === next) {
        client = undefined;
        retry = setTimeout(() => void connect().catch(() => undefined), RELISTEN_DELAY_MS);
        retry.unref();
      }
    };
    next.on('error', reconnect);
    next.on('notification', onChange);
    client = next;
    try {
      await next.connect();
      await next.query(`listen ${REVOCATION_CHANNEL}`);
      // Anything announced while we were not listening: let the reader poll now.
      onChange();
    } catch (error) {
      reconnect(error as Error);
      return;
    }
    // A listener only receives, so a silent network would go unnoticed: ask for an answer now and then.
    const heartbeat = setInterval(() => {
      if (client !== next) {
        clearInterval(heartbeat);
        return;
      }
      next.query({ text: 'select 1', query_timeout: QUERY_TIMEOUT_MS } as pg.QueryConfig).catch((error: unknown) => {
        clearInterval(heartbeat);
        destroy(next);
        reconnect(error as Error);
      });
    }, LISTEN_HEARTBEAT_MS);
    heartbeat.unref();
  };
  await connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      // Unset first, so the heartbeat stops rather than query a closed client.
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}

/** Ends a connection at once, even one whose peer went silent (end() would wait on it). */
function destroy(client: pg.Client | pg.PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/**
 * The pool as Kysely sees it, discarding any connection whose query timed out: that connection's
 * protocol state is unknown (the answer may still arrive), so it must never serve another query.
 */
function discardingTimedOut(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let timedOut = false;
      return {
        query: ((text: string, parameters: unknown[]) =>
          client.query(text, parameters).catch((error: unknown) => {
            if (error instanceof Error && error.message === 'Query read timeout') timedOut = true;
            throw error;
          })) as unknown as PostgresPoolClient['query'],
        release(discard?: boolean) {
          if (timedOut) destroy(client);
          client.release(timedOut || discard === true);
        },
      };
    },
    end: () => pool.end(),
  };
}

function postgresEngineFor(url: string, onError: (error: Error) => void): Engine {
  return {
    ...postgresEngine,
    async announceRevocation(trx) {
      // Delivered at commit, to every listening instance.
      await sql`select pg_notify(${REVOCATION_CHANNEL}, '')`.execute(trx);
    },
    watchRevocations: (onChange) => listen(url, onChange, onError),
  };
}

const postgresEngine: Engine = {
  kind: 'postgres',
  beginWrite: 'begin',
  async lock(trx, name) {
    await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${LOCK_IDS[name]})`.execute(trx);
  },
  isUniqueViolation(error, unique) {
    return error instanceof pg.DatabaseError && error.code === '23505' && error.constraint === unique.name;
  },
};

/** int8 (bigint) as a number: timestamps in epoch ms and feed positions, all far below 2^53. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError('int8 value beyond the safe integer range');
  return n;
}

// A per-pool parser, so hush does not change how int8 is read for the host application's own pg use.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Thrown when the database URL cannot be used. Never carries the URL, which may hold a password. */
export class StoreConfigError extends Error {
  readonly code = 'store_config';
  constructor(message: string) {
    super(message);
    this.name = 'StoreConfigError';
  }
}

export interface PostgresStoreOptions {
  /** Pool size (default 10). */
  readonly max?: number;
  /**
   * Told about connection errors that happen outside any query (the server restarted, the
   * network dropped an idle connection). The pool discards such connections by itself; this is
   * for logging. Error messages from pg carry no password.
   */
  readonly onError?: (error: Error) => void;
}

/**
 * Returns a {@link Store} over the PostgreSQL database at `url` (`postgres://` or
 * `postgresql://`). Connects lazily: an unreachable database makes the first operation reject,
 * not this call. The schema is not touched: call {@link Store.migrate} before use.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  try {
    new URL(url);
  } catch {
    // URL's own error carries the input, password included.
    throw new StoreConfigError('the database URL is not a valid URL');
  }
  const onError = options.onError ?? (() => undefined);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: POOL_WAIT_MS,
    Client: QuickConnectClient,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    // Idle connections are closed soon: after a partition, the ones opened before it must not
    // linger in the pool and cost a query timeout each before the instance is itself again.
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    application_name: 'hush',
    types,
  });
  // Idle clients' errors surface here; without a listener they would crash the process.
  pool.on('error', onError);
  // A checked-out client has no pool listener: one that breaks between two queries of a
  // transaction would otherwise emit an unhandled 'error'. Swallowed here because it surfaces
  // anyway (its next query rejects, and the pool discards it on release), and an idle client's
  // error already reaches `onError` through the pool.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingTimedOut(pool) }) }), postgresEngineFor(url, onError));
}
