/**
 * The embedded default: a SQLite file through better-sqlite3.
 *
 * Pragmas, and why:
 * - `journal_mode = WAL`: readers never block the writer nor the writer the readers.
 * - `synchronous = FULL`: every commit is synced before it is acknowledged, so not even an
 *   operating-system crash or power loss can roll a committed transaction back. For an auth
 *   server that matters: a lost credential-version bump (password change, suspension,
 *   logout-all) would revive the refresh tokens it ended. With the stateless strategy writes
 *   are rare (a refresh only reads), so the fsync per commit (about 0.6 ms measured here) is
 *   cheap. With `rotating`, every refresh commits: a few hundred to a few thousand refreshes a
 *   second on this machine's disk, which is why a busy rotating deployment belongs on PostgreSQL.
 * - `busy_timeout = 5000`: another process holding the write lock (the CLI next to a running
 *   server) makes a writer wait up to 5 s instead of failing at once.
 * - `foreign_keys = ON`: SQLite leaves them off by default; later tables rely on them.
 *
 * The file holds password hashes, so it is created 0600 in a folder created 0700; SQLite gives
 * its -wal and -shm files the database file's mode.
 */
import { chmodSync, closeSync, mkdirSync, openSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Engine } from './engine.js';
import { KyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';

const sqliteEngine: Engine = {
  kind: 'sqlite',
  beginWrite: 'begin immediate',
  // SQLite already serializes writers (one connection per file here, its write lock across processes).
  lock: async () => undefined,
  isUniqueViolation(error, unique) {
    return (
      error instanceof Error &&
      (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' &&
      error.message.endsWith(`: ${unique.column}`)
    );
  },
};

/** Milliseconds a writer waits for another connection's write lock. */
const BUSY_TIMEOUT_MS = 5000;

/** Creates the database file, and its folder, readable by the owner only. */
function prepareFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  // An existing file may be wider than 0600 (created by hand, or by an older tool): narrow it.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
}

/** Sets the pragmas described at the top of this file on a new connection. */
export function configureConnection(database: BetterSqlite3.Database): void {
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  database.pragma('foreign_keys = ON');
}

/** One connection per database file in this process, shared by every store opened on it. */
const shared = new Map<string, { db: Kysely<Database>; stores: number }>();

function connect(path: string): Kysely<Database> {
  const database = new BetterSqlite3(path);
  try {
    // Also what makes a file that is not a database fail here rather than at first use.
    configureConnection(database);
  } catch (error) {
    database.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
}

/** How many compiled statements a connection keeps; hush runs a few dozen distinct queries. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares a statement for every query, and better-sqlite3 compiles SQL on every
 * prepare() — tens of µs on each refresh. Statements are reused instead: safe, because
 * better-sqlite3 runs each one to completion synchronously.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Open an existing database for reading only (a follower of another process's database): the
   * file must exist and is neither created, nor chmod-ed, nor switched to WAL. Its own connection,
   * not shared; every write through the store fails.
   */
  readonly readonly?: boolean;
}

/** A read-only connection to an existing database (see {@link SqliteStoreOptions.readonly}). */
function connectReadonly(path: string): Kysely<Database> {
  const database = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Fails here, not at first use, for a file that is not a database.
    database.pragma('schema_version');
  } catch (error) {
    database.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
}

/**
 * Opens (creating when missing) the SQLite database at `path` and returns a {@link Store} over
 * it. `:memory:` gives a private in-memory database (for tests). The schema is not touched:
 * call {@link Store.migrate} before use.
 *
 * Stores opened on one file within one process share a single connection (closed with the
 * last of them). better-sqlite3 waits for a lock synchronously, so a second connection in the
 * same process would block the event loop while the first sits in a transaction that needs
 * that very event loop to commit: a 5 s freeze, then SQLITE_BUSY. Sharing one connection lets
 * Kysely queue the work instead. Other processes (the CLI beside a server) have their own.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  if (path === ':memory:') return new KyselyStore(connect(path), sqliteEngine);
  if (options.readonly === true) return new KyselyStore(connectReadonly(path), sqliteEngine);
  prepareFile(path);
  const key = realpathSync(path);
  let entry = shared.get(key);
  if (!entry) {
    entry = { db: connect(key), stores: 0 };
    shared.set(key, entry);
  }
  entry.stores += 1;
  const current = entry;
  return new KyselyStore(current.db, sqliteEngine, async () => {
    current.stores -= 1;
    if (current.stores > 0) return;
    shared.delete(key);
    await current.db.destroy();
  });
}
