/**
 * The storage layer: pick an engine from the database URL, and the types the core codes against.
 */
import type { PostgresStoreOptions } from './postgres.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export * from './types.js';
export { StoreClosedError, usernameKey } from './kysely-store.js';
export { MigrationError } from './migrations.js';
// postgres.js (and pg) is loaded only when a PostgreSQL URL is opened: an embedded server never
// pays pg's memory. Import it directly for openPostgresStore or StoreConfigError.
export type { PostgresStoreOptions } from './postgres.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';

/** Whether `databaseUrl` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(databaseUrl);
}

/**
 * Opens the store `databaseUrl` names: a `postgres://` or `postgresql://` URL opens PostgreSQL,
 * anything else is the path of a SQLite file (created, with its folder, when missing — unless
 * `readonly`, which SQLite honours and PostgreSQL ignores). Call {@link Store.migrate} before use.
 */
export async function openStore(databaseUrl: string, options: PostgresStoreOptions & SqliteStoreOptions = {}): Promise<Store> {
  if (!isPostgresUrl(databaseUrl)) return openSqliteStore(databaseUrl, options);
  const { openPostgresStore } = await import('./postgres.js');
  return openPostgresStore(databaseUrl, options);
}
