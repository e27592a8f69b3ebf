/**
 * The Store: everything hush keeps. The core speaks only to this interface, so the
 * embedded SQLite default and PostgreSQL behave the same way (the store tests run both).
 *
 * No secret material is stored in a usable form: password hashes are argon2id PHC strings,
 * the per-user salt is only an input to a key derivation under a server-only secret.
 */

/** A user as stored. `usernameKey` is the case-folded username that uniqueness is checked on. */
export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  /** Random per-user salt (base64url) mixed into the refresh-token key. Never changes. */
  readonly salt: string;
  /**
   * Credential version: bumped by every password change, suspension, unsuspension and
   * logout-all. Refresh keys and access-token revocation are bound to it.
   */
  readonly credentialVersion: number;
  readonly suspended: boolean;
  /**
   * Device epoch: bumped by logout-all and suspension (never by a password change). The HMAC of
   * the user's device cookies (src/core/device-tokens.ts) is bound to it, so a bump ends them all.
   */
  readonly deviceEpoch: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewUser {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly salt: string;
}

/** What a credential event changes, applied atomically together with a version bump. */
export interface CredentialChange {
  readonly passwordHash?: string;
  readonly suspended?: boolean;
  /** Also increments the device epoch, ending every device cookie of the user (logout-all, suspension). */
  readonly endDevices?: boolean;
}

/**
 * A revocation notice for access tokens: every token of `userId` whose credential version is
 * below `version` (kind `user`), or every token of the session `sessionId` (kind `session`), is
 * refused until `expiresAt` (after which such tokens have expired anyway).
 */
export type Revocation =
  | { readonly kind: 'user'; readonly userId: string; readonly version: number; readonly expiresAt: Date }
  | { readonly kind: 'session'; readonly sessionId: string; readonly expiresAt: Date };

/** A stored revocation with its feed position (strictly increasing). */
export type StoredRevocation = Revocation & { readonly seq: number };

/** An asymmetric signing key as kept by the server (PostgreSQL keeps them in the database). */
export interface StoredSigningKey {
  readonly kid: string;
  readonly alg: string;
  /** Private JWK, JSON-encoded. */
  readonly privateJwk: string;
  readonly createdAt: Date;
  /** Whether this is the key new tokens are signed with (exactly one is). */
  readonly active: boolean;
}

/**
 * A rotating-strategy session. Its refresh token is an HMAC over (id, counter) under the user's
 * derived key, so nothing secret is stored: `counter` is the counter of the newest token issued.
 */
export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly counter: number;
  /** Login time: the absolute session lifetime counts from here. */
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  /** Sliding expiry. */
  readonly expiresAt: Date;
  /** When the counter last advanced, i.e. when token `counter - 1` was first used. */
  readonly rotatedAt: Date | null;
  /** When token `counter - 2` was first used (the advance before `rotatedAt`). */
  readonly previousRotatedAt: Date | null;
  readonly userAgent: string | null;
  readonly address: string | null;
  readonly revoked: boolean;
}

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly userAgent: string | null;
  readonly address: string | null;
}

export interface Store {
  /** Which engine this is; used in messages and to choose defaults. */
  readonly kind: 'sqlite' | 'postgres';

  /** Creates or upgrades the schema, in one transaction. Idempotent. */
  migrate(): Promise<void>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Inserts a user. Rejects with {@link UsernameTakenError} when the username exists, ignoring case. */
  createUser(user: NewUser): Promise<UserRecord>;
  /** Looks a user up by username, ignoring case. */
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /** All users, oldest first. */
  listUsers(): Promise<UserRecord[]>;
  /**
   * Compare-and-swap on the hash: replaces the password hash without touching the credential version
   * (a parameter upgrade), only while the stored hash is still `expectedHash` (the one the password
   * was verified against), so an upgrade can never write back a password changed meanwhile.
   * Returns whether it replaced it.
   */
  setPasswordHash(id: string, passwordHash: string, expectedHash: string): Promise<boolean>;
  /**
   * Compare-and-swap on the credential version: increments it and applies `change`, atomically and
   * only while the version is still `expectedVersion` (the one the caller read). Returns the updated
   * user, or undefined when the user is gone or another change came first (then nothing is written).
   */
  bumpCredentialVersion(id: string, expectedVersion: number, change?: CredentialChange): Promise<UserRecord | undefined>;
  /**
   * Compare-and-swap: deletes a user (and its sessions) only while its credential version is still
   * `expectedVersion`. Returns whether one was deleted.
   */
  deleteUser(id: string, expectedVersion: number): Promise<boolean>;

  /** Records a revocation and returns it with its feed position. */
  addRevocation(revocation: Revocation): Promise<StoredRevocation>;
  /** Revocations after `seq` (all when 0) that have not expired at `now`, in feed order. */
  revocationsSince(seq: number, now: Date): Promise<StoredRevocation[]>;
  /** Deletes revocations expired at `now`. */
  pruneRevocations(now: Date): Promise<number>;
  /**
   * Calls `onChange` soon after any instance adds a revocation (PostgreSQL LISTEN/NOTIFY; on
   * SQLite, a single instance, it never calls). Best effort: notifications can be lost, so
   * readers keep polling {@link Store.revocationsSince} too.
   */
  watchRevocations(onChange: () => void): Promise<{ close(): Promise<void> }>;

  /** Inserts a session with counter 0. */
  createSession(session: NewSession): Promise<SessionRecord>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /** The user's sessions that are neither revoked nor expired at `now`, newest first. */
  listSessions(userId: string, now: Date): Promise<SessionRecord[]>;
  /**
   * Compare-and-swap: advances the counter by one, only if it still is `expectedCounter` and the
   * session is not revoked, recording `now` as the rotation time and `expiresAt` as the new expiry.
   * Returns the updated session, or undefined when another request advanced it first.
   */
  advanceSession(id: string, expectedCounter: number, now: Date, expiresAt: Date): Promise<SessionRecord | undefined>;
  /** Marks a session revoked (only the user's own, when `userId` is given). Returns whether one was. */
  revokeSession(id: string, userId?: string): Promise<boolean>;
  /** Marks every live session of the user revoked except `exceptId`. Returns their ids. */
  revokeUserSessions(userId: string, exceptId?: string): Promise<string[]>;
  /** Deletes sessions expired before `now` (revoked ones included). */
  pruneSessions(now: Date): Promise<number>;

  /** Signing keys, oldest first. */
  listSigningKeys(): Promise<StoredSigningKey[]>;
  /** Adds a key and makes it the only active one, in one transaction. */
  addSigningKey(key: Omit<StoredSigningKey, 'active' | 'createdAt'>): Promise<void>;
}

/** Thrown by {@link Store.createUser} when the username is taken (compared ignoring case). */
export class UsernameTakenError extends Error {
  readonly code = 'username_taken';
  constructor() {
    super('username is taken');
    this.name = 'UsernameTakenError';
  }
}
