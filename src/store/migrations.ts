/**
 * Schema migrations: an ordered list, applied by a small runner that records what it applied
 * in `hush_migrations`. All pending migrations run in one transaction, so a failed upgrade
 * leaves the schema as it was; the runner holds a lock while it works, so instances starting
 * together against one PostgreSQL database (or processes sharing one SQLite file) apply each
 * migration exactly once.
 *
 * Append new migrations to the end of {@link migrations}; never edit or reorder one that
 * has shipped.
 */
import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { Engine } from './engine.js';
import type { Database } from './schema.js';

/** One schema step. `up` receives an untyped handle: a migration sees the schema of its day. */
export interface Migration {
  /** Unique and stable; recorded in `hush_migrations`. */
  readonly name: string;
  up(db: Kysely<unknown>, engine: Engine['kind']): Promise<void>;
}

/** Thrown when the schema cannot be brought up to date. */
export class MigrationError extends Error {
  readonly code = 'migration_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Column types that differ between the engines. */
function types(engine: Engine['kind']) {
  return engine === 'postgres'
    ? ({ epochMs: 'bigint', flag: 'boolean' } as const)
    : ({ epochMs: 'integer', flag: 'integer' } as const);
}

/** A NOT NULL flag column; on SQLite, which has no boolean type, only 0 and 1 are allowed. */
function flag(engine: Engine['kind'], column: string) {
  return (c: ColumnDefinitionBuilder) =>
    engine === 'sqlite' ? c.notNull().check(sql`${sql.ref(column)} in (0, 1)`) : c.notNull();
}

const notNull = (c: ColumnDefinitionBuilder) => c.notNull();

/** Every migration, in the order they apply. */
export const migrations: readonly Migration[] = [
  {
    name: '0001_users_revocations_signing_keys',
    async up(db, engine) {
      const t = types(engine);

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', notNull)
        .addColumn('username_key', 'text', notNull)
        .addColumn('password_hash', 'text', notNull)
        .addColumn('salt', 'text', notNull)
        .addColumn('credential_version', 'integer', notNull)
        .addColumn('suspended', t.flag, flag(engine, 'suspended'))
        .addColumn('created_at', t.epochMs, notNull)
        .addColumn('updated_at', t.epochMs, notNull)
        .execute();
      await db.schema
        .createIndex('users_username_key_unique')
        .on('users')
        .column('username_key')
        .unique()
        .execute();
      await db.schema.createIndex('users_created_at').on('users').column('created_at').execute();

      await db.schema
        .createTable('revocations')
        // Feed positions must never be reused after pruning: SQLite needs AUTOINCREMENT for
        // that (a plain rowid may reuse the largest deleted value); identities never reuse.
        .addColumn('seq', engine === 'postgres' ? 'bigint' : 'integer', (c) =>
          engine === 'postgres'
            ? c.generatedAlwaysAsIdentity().primaryKey()
            : c.primaryKey().autoIncrement(),
        )
        .addColumn('kind', 'text', notNull)
        .addColumn('user_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('version', 'integer')
        .addColumn('expires_at', t.epochMs, notNull)
        .addCheckConstraint(
          'revocations_kind_fields',
          sql`(kind = 'user' and user_id is not null and version is not null)
              or (kind = 'session' and session_id is not null)`,
        )
        .execute();
      await db.schema
        .createIndex('revocations_expires_at')
        .on('revocations')
        .column('expires_at')
        .execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', notNull)
        .addColumn('private_jwk', 'text', notNull)
        .addColumn('created_at', t.epochMs, notNull)
        .addColumn('active', t.flag, flag(engine, 'active'))
        .execute();
      // At most one active key, whatever races happen: the same partial index on both engines
      // (`where active` is true for PostgreSQL's boolean and SQLite's 1).
      await sql`create unique index signing_keys_single_active on signing_keys (active) where active`.execute(
        db,
      );
    },
  },
  {
    name: '0002_sessions',
    async up(db, engine) {
      const t = types(engine);
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('counter', 'integer', notNull)
        .addColumn('created_at', t.epochMs, notNull)
        .addColumn('last_used_at', t.epochMs, notNull)
        .addColumn('expires_at', t.epochMs, notNull)
        .addColumn('rotated_at', t.epochMs)
        .addColumn('previous_rotated_at', t.epochMs)
        .addColumn('user_agent', 'text')
        .addColumn('address', 'text')
        .addColumn('revoked', t.flag, flag(engine, 'revoked'))
        .execute();
      await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
    },
  },
  {
    // Device cookies (the contract's Rate limits): their HMAC is bound to this epoch, which
    // logout-all and suspension bump and a password change leaves alone.
    name: '0003_users_device_epoch',
    async up(db) {
      await db.schema
        .alterTable('users')
        .addColumn('device_epoch', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
];

/**
 * Applies the pending `list` to the database in one transaction, under the migrations lock.
 * Idempotent. Rejects with {@link MigrationError} when the database carries a migration this
 * code does not know (it was upgraded by a newer version) or when a migration fails.
 */
export async function runMigrations(
  db: Kysely<Database>,
  engine: Engine,
  list: readonly Migration[] = migrations,
): Promise<void> {
  await db.connection().execute(async (conn) => {
    await sql.raw(engine.beginWrite).execute(conn);
    try {
      await engine.lock(conn, 'migrations');
      // Created inside the transaction and the lock: concurrent `create table if not exists`
      // can still collide on PostgreSQL.
      await conn.schema
        .createTable('hush_migrations')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('applied_at', types(engine.kind).epochMs, notNull)
        .execute();
      const applied = new Set(
        (await conn.selectFrom('hush_migrations').select('name').execute()).map((r) => r.name),
      );
      const known = new Set(list.map((m) => m.name));
      const unknown = [...applied].filter((name) => !known.has(name));
      if (unknown.length > 0) {
        throw new MigrationError(
          `the database has migrations this version of hush does not know (${unknown.join(', ')}); ` +
            'it was upgraded by a newer version',
        );
      }
      for (const migration of list) {
        if (applied.has(migration.name)) continue;
        try {
          // A migration describes the schema of its own day, not today's Database type.
          await migration.up(conn as unknown as Kysely<unknown>, engine.kind);
        } catch (error) {
          throw new MigrationError(`migration ${migration.name} failed`, { cause: error });
        }
        await conn
          .insertInto('hush_migrations')
          .values({ name: migration.name, applied_at: Date.now() })
          .execute();
      }
      await sql`commit`.execute(conn);
    } catch (error) {
      // The original error matters more than a failed rollback (e.g. on a dropped connection).
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
