/**
 * The few places where SQLite and PostgreSQL differ, gathered in one small interface so the
 * store and the migrations are written once. sqlite.ts and postgres.ts each provide one.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Work that must not interleave with itself across connections or instances. */
export type LockName = 'migrations' | 'revocations' | 'signing_keys';

export interface Engine {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Opens a transaction that is going to write. SQLite needs `begin immediate` so that a
   * transaction that reads before it writes takes the write lock up front (a deferred one
   * could fail with SQLITE_BUSY instead of waiting when another connection wrote meanwhile).
   */
  readonly beginWrite: string;
  /**
   * Called first inside a transaction: serializes it against every other transaction that
   * takes the same lock, until commit. A no-op on SQLite, where writers are already serialized.
   */
  lock(trx: Kysely<Database>, name: LockName): Promise<void>;
  /** Whether `error` is a violation of the unique index `unique`. */
  isUniqueViolation(error: unknown, unique: UniqueIndex): boolean;
  /** Called inside the transaction that adds a revocation: tell other instances (PostgreSQL NOTIFY). */
  announceRevocation?(trx: Kysely<Database>): Promise<void>;
  /** Calls `onChange` when any instance announces a revocation; best effort (polling stays). */
  watchRevocations?(onChange: () => void): Promise<RevocationWatch>;
}

/** A subscription to revocation announcements. */
export interface RevocationWatch {
  close(): Promise<void>;
}

/** A single-column unique index, named the way each engine reports its violations. */
export interface UniqueIndex {
  /** The index name (PostgreSQL reports it). */
  readonly name: string;
  /** `table.column` (SQLite reports it). */
  readonly column: string;
}
