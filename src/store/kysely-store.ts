/**
 * The Store over Kysely, written once for SQLite and PostgreSQL. What differs between the
 * engines comes in through {@link Engine}; everything else here is portable SQL.
 */
import { sql, type CompiledQuery, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Engine, UniqueIndex } from './engine.js';
import { GroupCommit } from './group-commit.js';
import { runMigrations } from './migrations.js';
import type { Database, RevocationsTable, SessionsTable, SigningKeysTable, UsersTable } from './schema.js';
import {
  UsernameTakenError,
  type CredentialChange,
  type NewSession,
  type NewUser,
  type Revocation,
  type SessionRecord,
  type StoredRevocation,
  type StoredSigningKey,
  type Store,
  type UserRecord,
} from './types.js';

/** Case-folds a username into the key its uniqueness is checked on. */
export function usernameKey(username: string): string {
  // Usernames are ASCII (CONTRACT.md), where toLowerCase is exact and locale-independent.
  return username.toLowerCase();
}

const USERNAME_UNIQUE: UniqueIndex = { name: 'users_username_key_unique', column: 'users.username_key' };

/** Flags are bound as 0/1: SQLite cannot bind booleans, and PostgreSQL reads '1'/'0' as booleans. */
function flag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

function isSet(value: SqlBool): boolean {
  return value === true || value === 1;
}

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    salt: row.salt,
    credentialVersion: row.credential_version,
    suspended: isSet(row.suspended),
    deviceEpoch: row.device_epoch,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toRevocation(row: Selectable<RevocationsTable>): StoredRevocation {
  const expiresAt = new Date(row.expires_at);
  if (row.kind === 'user' && row.user_id !== null && row.version !== null) {
    return { kind: 'user', userId: row.user_id, version: row.version, expiresAt, seq: row.seq };
  }
  if (row.kind === 'session' && row.session_id !== null) {
    return { kind: 'session', sessionId: row.session_id, expiresAt, seq: row.seq };
  }
  // The table's check constraint makes this unreachable; fail loudly rather than guess.
  throw new Error(`malformed revocation row ${row.seq}`);
}

function toSigningKey(row: Selectable<SigningKeysTable>): StoredSigningKey {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: row.private_jwk,
    createdAt: new Date(row.created_at),
    active: isSet(row.active),
  };
}

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    counter: row.counter,
    createdAt: new Date(row.created_at),
    lastUsedAt: new Date(row.last_used_at),
    expiresAt: new Date(row.expires_at),
    rotatedAt: row.rotated_at === null ? null : new Date(row.rotated_at),
    previousRotatedAt: row.previous_rotated_at === null ? null : new Date(row.previous_rotated_at),
    userAgent: row.user_agent,
    address: row.address,
    revoked: isSet(row.revoked),
  };
}

/** Thrown by every operation of a store that was closed. */
export class StoreClosedError extends Error {
  readonly code = 'store_closed';
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}

/** A {@link Store} over a Kysely instance of either engine. */
export class KyselyStore implements Store {
  readonly kind: Engine['kind'];
  readonly #kysely: Kysely<Database>;
  readonly #engine: Engine;
  readonly #release: () => Promise<void>;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Notices wait here rather than on the feed's lock: a burst holds one connection, one commit per batch. */
  readonly #revocationWrites = new GroupCommit<Revocation, StoredRevocation>((batch) => this.#insertRevocations(batch));
  #userById: CompiledQuery<Selectable<UsersTable>> | undefined;

  /**
   * `release` is called once, by {@link KyselyStore.close}; by default it destroys `db`. (SQLite
   * stores share one connection per file and release a reference instead.)
   */
  constructor(db: Kysely<Database>, engine: Engine, release: () => Promise<void> = () => db.destroy()) {
    this.#kysely = db;
    this.#engine = engine;
    this.#release = release;
    this.kind = engine.kind;
  }

  /** The database, for as long as this store is open. */
  get #db(): Kysely<Database> {
    if (this.#closed) throw new StoreClosedError();
    return this.#kysely;
  }

  /** @inheritDoc */
  async migrate(): Promise<void> {
    return runMigrations(this.#db, this.#engine);
  }

  /** @inheritDoc */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  /** @inheritDoc */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Notices already accepted are written before the connection goes. The flag is set in the
      // same step as the last idle check, so no notice can slip in between.
      for (let running = this.#revocationWrites.running; running; running = this.#revocationWrites.running) await running;
      this.#closed = true;
      await this.#release();
    })();
    return this.#closing;
  }

  /** @inheritDoc */
  async createUser(user: NewUser): Promise<UserRecord> {
    const now = Date.now();
    try {
      const row = await this.#db
        .insertInto('users')
        .values({
          id: user.id,
          username: user.username,
          username_key: usernameKey(user.username),
          password_hash: user.passwordHash,
          salt: user.salt,
          credential_version: 1,
          suspended: flag(false),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (error) {
      if (this.#engine.isUniqueViolation(error, USERNAME_UNIQUE)) throw new UsernameTakenError();
      throw error;
    }
  }

  /** @inheritDoc */
  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.#db
      .selectFrom('users')
      .selectAll()
      .where('username_key', '=', usernameKey(username))
      .executeTakeFirst();
    return row && toUser(row);
  }

  /** @inheritDoc */
  async findUserById(id: string): Promise<UserRecord | undefined> {
    // Every refresh runs this: compiled once, then only its parameter changes.
    this.#userById ??= this.#db.selectFrom('users').selectAll().where('id', '=', '').compile();
    const { rows } = await this.#db.executeQuery<Selectable<UsersTable>>({ ...this.#userById, parameters: [id] });
    const row = rows[0];
    return row && toUser(row);
  }

  /** @inheritDoc */
  async listUsers(): Promise<UserRecord[]> {
    // username_key breaks ties between users created in the same millisecond.
    const rows = await this.#db
      .selectFrom('users')
      .selectAll()
      .orderBy('created_at')
      .orderBy('username_key')
      .execute();
    return rows.map(toUser);
  }

  /** @inheritDoc */
  async setPasswordHash(id: string, passwordHash: string, expectedHash: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: Date.now() })
      .where('id', '=', id)
      .where('password_hash', '=', expectedHash)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** @inheritDoc */
  async bumpCredentialVersion(id: string, expectedVersion: number, change: CredentialChange = {}): Promise<UserRecord | undefined> {
    // One conditional UPDATE is the compare-and-swap: concurrent changes from one version queue on
    // the row (its lock on PostgreSQL, the single writer on SQLite), and only the first still finds
    // `credential_version = expected`; the others match no row and write nothing.
    const row = await this.#db
      .updateTable('users')
      .set((eb) => ({
        credential_version: eb('credential_version', '+', 1),
        updated_at: Date.now(),
        ...(change.passwordHash !== undefined && { password_hash: change.passwordHash }),
        ...(change.suspended !== undefined && { suspended: flag(change.suspended) }),
        ...(change.endDevices === true && { device_epoch: eb('device_epoch', '+', 1) }),
      }))
      .where('id', '=', id)
      .where('credential_version', '=', expectedVersion)
      .returningAll()
      .executeTakeFirst();
    return row && toUser(row);
  }

  /** @inheritDoc */
  async deleteUser(id: string, expectedVersion: number): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('users')
      .where('id', '=', id)
      .where('credential_version', '=', expectedVersion)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** @inheritDoc */
  addRevocation(revocation: Revocation): Promise<StoredRevocation> {
    if (this.#closed) return Promise.reject(new StoreClosedError());
    return this.#revocationWrites.add(revocation);
  }

  /** Writes a batch of notices in one transaction, under the feed's lock. */
  async #insertRevocations(revocations: readonly Revocation[]): Promise<StoredRevocation[]> {
    return this.#db.transaction().execute(async (trx) => {
      // Readers follow the feed with `seq > last seen`. On PostgreSQL, concurrent inserts could
      // commit out of seq order and a reader would skip the later-committing lower seq forever;
      // the lock makes allocation and commit happen in one order.
      await this.#engine.lock(trx, 'revocations');
      const stored: StoredRevocation[] = [];
      for (const revocation of revocations) {
        const values =
          revocation.kind === 'user'
            ? { kind: 'user' as const, user_id: revocation.userId, session_id: null, version: revocation.version }
            : { kind: 'session' as const, user_id: null, session_id: revocation.sessionId, version: null };
        const row = await trx
          .insertInto('revocations')
          .values({ ...values, expires_at: revocation.expiresAt.getTime() })
          .returningAll()
          .executeTakeFirstOrThrow();
        stored.push(toRevocation(row));
      }
      await this.#engine.announceRevocation?.(trx);
      return stored;
    });
  }

  /** @inheritDoc */
  async watchRevocations(onChange: () => void): Promise<{ close(): Promise<void> }> {
    if (this.#closed) throw new StoreClosedError();
    return this.#engine.watchRevocations ? this.#engine.watchRevocations(onChange) : { close: async () => undefined };
  }

  /** @inheritDoc */
  async revocationsSince(seq: number, now: Date): Promise<StoredRevocation[]> {
    const rows = await this.#db
      .selectFrom('revocations')
      .selectAll()
      .where('seq', '>', seq)
      .where('expires_at', '>', now.getTime())
      .orderBy('seq')
      .execute();
    return rows.map(toRevocation);
  }

  /** @inheritDoc */
  async pruneRevocations(now: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('revocations')
      .where('expires_at', '<=', now.getTime())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** @inheritDoc */
  async createSession(session: NewSession): Promise<SessionRecord> {
    const row = await this.#db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        counter: 0,
        created_at: session.createdAt.getTime(),
        last_used_at: session.createdAt.getTime(),
        expires_at: session.expiresAt.getTime(),
        rotated_at: null,
        previous_rotated_at: null,
        user_agent: session.userAgent,
        address: session.address,
        revoked: flag(false),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSession(row);
  }

  /** @inheritDoc */
  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.#db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  /** @inheritDoc */
  async listSessions(userId: string, now: Date): Promise<SessionRecord[]> {
    const rows = await this.#db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked', '=', flag(false))
      .where('expires_at', '>', now.getTime())
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toSession);
  }

  /** @inheritDoc */
  async advanceSession(id: string, expectedCounter: number, now: Date, expiresAt: Date): Promise<SessionRecord | undefined> {
    // One conditional UPDATE is the compare-and-swap: of concurrent refreshes on any number of
    // instances, exactly one matches `counter = expected`. The right-hand sides read the old row.
    const row = await this.#db
      .updateTable('sessions')
      .set((eb) => ({
        counter: eb('counter', '+', 1),
        previous_rotated_at: eb.ref('rotated_at'),
        rotated_at: now.getTime(),
        last_used_at: now.getTime(),
        expires_at: expiresAt.getTime(),
      }))
      .where('id', '=', id)
      .where('counter', '=', expectedCounter)
      .where('revoked', '=', flag(false))
      .returningAll()
      .executeTakeFirst();
    return row && toSession(row);
  }

  /** @inheritDoc */
  async revokeSession(id: string, userId?: string): Promise<boolean> {
    let query = this.#db.updateTable('sessions').set({ revoked: flag(true) }).where('id', '=', id).where('revoked', '=', flag(false));
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** @inheritDoc */
  async revokeUserSessions(userId: string, exceptId?: string): Promise<string[]> {
    let query = this.#db
      .updateTable('sessions')
      .set({ revoked: flag(true) })
      .where('user_id', '=', userId)
      .where('revoked', '=', flag(false));
    if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
    const rows = await query.returning('id').execute();
    return rows.map((r) => r.id);
  }

  /** @inheritDoc */
  async pruneSessions(now: Date): Promise<number> {
    const result = await this.#db.deleteFrom('sessions').where('expires_at', '<=', now.getTime()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** @inheritDoc */
  async listSigningKeys(): Promise<StoredSigningKey[]> {
    const rows = await this.#db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at')
      .orderBy('kid')
      .execute();
    return rows.map(toSigningKey);
  }

  /** @inheritDoc */
  async addSigningKey(key: Omit<StoredSigningKey, 'active' | 'createdAt'>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      // Two rotations at once would otherwise both deactivate, then both insert an active key
      // (and the second would hit the single-active index).
      await this.#engine.lock(trx, 'signing_keys');
      await trx.updateTable('signing_keys').set({ active: flag(false) }).where('active', '=', flag(true)).execute();
      await trx
        .insertInto('signing_keys')
        .values({ kid: key.kid, alg: key.alg, private_jwk: key.privateJwk, created_at: Date.now(), active: flag(true) })
        .execute();
    });
  }
}
