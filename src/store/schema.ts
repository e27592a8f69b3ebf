/**
 * Kysely table types: the rows exactly as both engines hold them.
 *
 * Conventions that keep SQLite and PostgreSQL interchangeable:
 * - Timestamps are integer epoch milliseconds (`integer` on SQLite, `bigint` on PostgreSQL, whose
 *   driver is told to return int8 as a number), so a `Date` round-trips exactly to the millisecond
 *   and comparisons are plain integer comparisons on both engines.
 * - Flags are `boolean` on PostgreSQL and `0`/`1` on SQLite; the store binds `0`/`1`, which
 *   PostgreSQL accepts as boolean input, and reads either form (Kysely's `SqlBool`).
 */
import type { ColumnType, Generated, SqlBool } from 'kysely';

/** Epoch milliseconds. */
export type EpochMs = number;

export interface UsersTable {
  id: string;
  username: string;
  /** `username` case-folded; the UNIQUE column that makes usernames unique ignoring case. */
  username_key: string;
  password_hash: string;
  salt: string;
  credential_version: number;
  suspended: SqlBool;
  created_at: EpochMs;
  updated_at: EpochMs;
  /** Added by migration 0003 with default 0; see UserRecord.deviceEpoch. */
  device_epoch: Generated<number>;
}

export interface RevocationsTable {
  /** Feed position: strictly increasing and never reused, even after pruning. */
  seq: Generated<number>;
  kind: 'user' | 'session';
  /** Set for kind `user`. */
  user_id: string | null;
  /** Set for kind `session`. */
  session_id: string | null;
  /** Set for kind `user`: tokens below this credential version are refused. */
  version: number | null;
  expires_at: EpochMs;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: string;
  created_at: EpochMs;
  active: SqlBool;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  counter: number;
  created_at: EpochMs;
  last_used_at: EpochMs;
  expires_at: EpochMs;
  rotated_at: EpochMs | null;
  previous_rotated_at: EpochMs | null;
  user_agent: string | null;
  address: string | null;
  revoked: SqlBool;
}

export interface MigrationsTable {
  name: string;
  applied_at: ColumnType<EpochMs, EpochMs, never>;
}

/** The whole database as Kysely sees it. */
export interface Database {
  users: UsersTable;
  revocations: RevocationsTable;
  signing_keys: SigningKeysTable;
  sessions: SessionsTable;
  hush_migrations: MigrationsTable;
}
