/**
 * The auth service: signup, login, refresh, logout, password change, account deletion and the
 * operator's user management, as plain functions over a Store. No HTTP types here: the HTTP layer
 * turns requests into these calls and {@link AuthError}s into responses.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Store, UserRecord } from '../store/types.js';
import { UsernameTakenError } from '../store/types.js';
import type { AccessClaims, AccessTokens } from './access-tokens.js';
import { changeCredentials, startSession, type ChangeOptions, type CredentialDeps, type CredentialEvent } from './credentials.js';
import {
  accountSuspended,
  AuthError,
  invalidCredentials,
  invalidRefreshToken,
  invalidRequest,
  invalidToken,
  notFound,
  rateLimited,
  usernameTaken,
} from './errors.js';
import type { DeviceTokens } from './device-tokens.js';
import type { KnownDevice, LoginThrottle } from './limits/index.js';
import type { PasswordHasher } from './password.js';
import type { RevocationFeed } from './revocations.js';
import type { SessionInfo, SessionStrategy, SessionTokens } from './sessions/types.js';
import { checkLoginPassword, checkPassword, checkUsername, isPossibleUsername, PASSWORD_MAX } from './validate.js';

/** Who is asking: the client address (for throttling) and user agent. */
export interface RequestContext {
  readonly address: string;
  readonly userAgent?: string | undefined;
  /** The device cookie's value as presented (unverified): see {@link DeviceTokens}. */
  readonly device?: string | undefined;
}

/** A user as the API shows it. */
export interface PublicUser {
  readonly id: string;
  readonly username: string;
}

/** What a successful signup, login, refresh or password change hands the client. */
export interface Grant {
  readonly accessToken: string;
  /** Access-token lifetime in seconds. */
  readonly expiresIn: number;
  readonly refreshToken: string;
  /** Remaining refresh lifetime in seconds (the cookie's Max-Age). */
  readonly refreshMaxAge: number;
  readonly user: PublicUser;
  /**
   * The device cookie's new value, on sign-ins that proved a password (signup, login, password
   * change): the presented entries plus a fresh one for this user.
   */
  readonly device?: string | undefined;
}

/** Things the service reports for logs and metrics; never secrets. */
export type AuthEvent =
  | { readonly type: 'signup' | 'login' | 'refresh' | 'password_changed' | 'logout_all' | 'account_deleted'; readonly userId: string }
  | { readonly type: 'login_failed'; readonly reason: 'unknown_user' | 'wrong_password' | 'suspended' | 'rate_limited' }
  | { readonly type: 'refresh_failed'; readonly reason: string }
  | { readonly type: 'logout' | 'session_ended' | 'refresh_reuse'; readonly userId: string }
  | { readonly type: 'rehash_failed'; readonly userId: string };

export interface AuthServiceOptions {
  readonly store: Store;
  readonly hasher: PasswordHasher;
  readonly accessTokens: AccessTokens;
  /** What a refresh token is and what ending a session means: `stateless` or `rotating`. */
  readonly sessions: SessionStrategy;
  readonly revocations: RevocationFeed;
  /** Failed-password throttling; omitted when rate limits are off. */
  readonly throttle?: LoginThrottle | undefined;
  /** Device-cookie entries: issued on every completed sign-in, honoured by the throttle. */
  readonly devices?: DeviceTokens | undefined;
  readonly clock?: () => number;
  readonly onEvent?: (event: AuthEvent) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Slack added to revocation notices so a token verified with leeway is still covered. */
const REVOCATION_SLACK_SECONDS = 60;

/** The auth service. */
export class AuthService {
  readonly #o: AuthServiceOptions;
  readonly #now: () => number;
  readonly #emit: (event: AuthEvent) => void;
  /** What every credential change and session start goes through (./credentials.ts). */
  readonly #credentials: CredentialDeps;

  constructor(options: AuthServiceOptions) {
    this.#o = options;
    this.#now = options.clock ?? Date.now;
    this.#emit = options.onEvent ?? (() => undefined);
    this.#credentials = {
      store: options.store,
      sessions: options.sessions,
      revokeUser: (userId, version) => this.#revokeBelow(userId, version),
    };
  }

  /** Creates an account and starts a session. */
  async signup(username: string, password: string, ctx: RequestContext): Promise<Grant> {
    checkUsername(username, 'signup');
    checkPassword(password);
    if (await this.#o.store.findUserByUsername(username)) throw usernameTaken();
    const user = await this.#createUser(username, password);
    this.#emit({ type: 'signup', userId: user.id });
    return this.#signedIn(user, this.#grant(user, await startSession(this.#credentials, user, ctx)), ctx);
  }

  /** Checks a username and password and starts a session. */
  async login(username: string, password: string, ctx: RequestContext): Promise<Grant> {
    checkUsername(username, 'login');
    checkLoginPassword(password);
    const user = await this.#checkPassword(username, password, ctx, 401, true);
    if (user.suspended) {
      this.#emit({ type: 'login_failed', reason: 'suspended' });
      throw accountSuspended();
    }
    this.#emit({ type: 'login', userId: user.id });
    return this.#signedIn(user, this.#grant(user, await startSession(this.#credentials, user, ctx)), ctx);
  }

  /** Exchanges a valid refresh token for a new access token and the session's next refresh token. */
  async refresh(refreshToken: string, _ctx: RequestContext): Promise<Grant> {
    const user = await this.#refreshTokenUser(refreshToken);
    if (!user || user.suspended) return this.#refreshFailed(user ? 'suspended' : 'unknown_user');
    let tokens: SessionTokens;
    try {
      tokens = await this.#o.sessions.refresh(user, refreshToken);
    } catch (error) {
      if (error instanceof AuthError && error.code === 'invalid_refresh_token') return this.#refreshFailed('invalid');
      throw error;
    }
    this.#emit({ type: 'refresh', userId: user.id });
    return this.#grant(user, tokens);
  }

  /**
   * Ends this browser's session. Stateless: nothing is stored, so nothing is revoked (the caller
   * clears the cookie; a copied token lives on until a credential event). Rotating: the session's
   * row and its access tokens are revoked. An invalid token is simply ignored: logout is idempotent.
   */
  async logout(refreshToken: string | undefined): Promise<void> {
    if (refreshToken === undefined) return;
    const user = await this.#refreshTokenUser(refreshToken);
    if (!user) return;
    try {
      if (await this.#o.sessions.end(user, refreshToken)) this.#emit({ type: 'logout', userId: user.id });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
    }
  }

  /** Ends every session of the token's user: every refresh token and outstanding access token. */
  async logoutAll(claims: AccessClaims): Promise<void> {
    const { user } = await this.#userChange(await this.#requireUser(claims), { kind: 'logout-all' });
    this.#emit({ type: 'logout_all', userId: user.id });
  }

  /** Changes the password: this session goes on with fresh tokens, every other one ends. */
  async changePassword(claims: AccessClaims, currentPassword: string, newPassword: string, ctx: RequestContext): Promise<Grant> {
    checkPassword(newPassword, 'newPassword');
    const user = await this.#requireUser(claims);
    await this.#verifyCurrentPassword(user, currentPassword, ctx);
    const passwordHash = await this.#o.hasher.hash(newPassword);
    const authTime = typeof claims['auth_time'] === 'number' ? claims['auth_time'] : Math.floor(this.#now() / 1000);
    // Written only if `user` is still current: a suspension or reset that came first stands.
    const { user: updated, tokens } = await this.#userChange(
      user,
      { kind: 'password', passwordHash },
      { keep: { sid: claims.sid, authTime, origin: ctx } },
    );
    if (!tokens) throw invalidToken('revoked'); // unreachable: a kept session always has tokens
    this.#emit({ type: 'password_changed', userId: updated.id });
    return this.#signedIn(updated, this.#grant(updated, tokens), ctx);
  }

  /** The token's user, fresh from the store. */
  async me(claims: AccessClaims): Promise<PublicUser> {
    return publicUser(await this.#requireUser(claims));
  }

  /** The user's live sessions (rotating strategy; `not_supported` otherwise). */
  async sessions(claims: AccessClaims): Promise<SessionInfo[]> {
    return this.#o.sessions.list(await this.#requireUser(claims), claims.sid);
  }

  /** Ends one of the user's sessions and its access tokens (rotating strategy). */
  async endSession(claims: AccessClaims, sid: string): Promise<void> {
    const user = await this.#requireUser(claims);
    await this.#o.sessions.endById(user, sid);
    this.#emit({ type: 'session_ended', userId: user.id });
  }

  /** Deletes the account after checking its password; its tokens stop working at once. */
  async deleteAccount(claims: AccessClaims, password: string, ctx: RequestContext): Promise<void> {
    const user = await this.#requireUser(claims);
    await this.#verifyCurrentPassword(user, password, ctx);
    await this.#userChange(user, { kind: 'deletion' });
    this.#emit({ type: 'account_deleted', userId: user.id });
  }

  /**
   * Verifies an access token and checks it against the revocation table. No I/O: this is the
   * per-request path of every protected route.
   */
  authenticate(token: string): AccessClaims {
    const claims = this.#o.accessTokens.verify(token);
    if (this.#o.revocations.list.isRevoked(claims.sub, claims.sid, claims.ver)) {
      throw invalidToken('revoked');
    }
    return claims;
  }

  // ---- operator actions (the CLI) ----

  /** All users, oldest first. */
  async listUsers(): Promise<UserRecord[]> {
    return this.#o.store.listUsers();
  }

  /** Creates a user without starting a session. */
  async createUser(username: string, password: string): Promise<PublicUser> {
    checkUsername(username, 'signup');
    checkPassword(password);
    if (await this.#o.store.findUserByUsername(username)) throw usernameTaken();
    return publicUser(await this.#createUser(username, password));
  }

  /** Sets a user's password; every session of the user ends. */
  async setPassword(username: string, password: string): Promise<void> {
    checkPassword(password);
    const user = await this.#userNamed(username);
    const passwordHash = await this.#o.hasher.hash(password);
    await this.#operatorChange(user, { kind: 'password', passwordHash });
  }

  /** Suspends or unsuspends a user; either way every existing token of the user ends. */
  async setSuspended(username: string, suspended: boolean): Promise<void> {
    await this.#operatorChange(await this.#userNamed(username), { kind: 'suspension', suspended });
  }

  /** Deletes a user by name. */
  async deleteUserNamed(username: string): Promise<void> {
    await this.#operatorChange(await this.#userNamed(username), { kind: 'deletion' });
  }

  // ---- internals ----

  async #createUser(username: string, password: string): Promise<UserRecord> {
    const passwordHash = await this.#o.hasher.hash(password);
    try {
      return await this.#o.store.createUser({
        id: randomUUID(),
        username,
        passwordHash,
        salt: randomBytes(16).toString('base64url'),
      });
    } catch (error) {
      if (error instanceof UsernameTakenError) throw usernameTaken();
      throw error;
    }
  }

  /** The user a refresh token names (unverified: the strategy verifies under that user's key). */
  async #refreshTokenUser(refreshToken: string): Promise<UserRecord | undefined> {
    const userId = this.#o.sessions.subjectOf(refreshToken);
    // Ids are UUIDs: anything else in an unverified token never reaches the database.
    return userId !== undefined && UUID.test(userId) ? this.#o.store.findUserById(userId) : undefined;
  }

  async #userNamed(username: string): Promise<UserRecord> {
    const user = await this.#o.store.findUserByUsername(username);
    if (!user) throw notFound(`There is no user named ${JSON.stringify(username)}.`);
    return user;
  }

  /**
   * The token's user, fresh from the store, for routes that act on the account. The revocation feed
   * may lag (up to a poll interval, or further when the database was unreachable), so the store has
   * the last word: a token outliving its account or its credential version, or a suspended user's,
   * is simply invalid.
   */
  async #requireUser(claims: AccessClaims): Promise<UserRecord> {
    const user = await this.#o.store.findUserById(claims.sub);
    if (!user || user.suspended || user.credentialVersion !== claims.ver) throw invalidToken('revoked');
    return user;
  }

  /** A user's own credential change: decided on `user` as read, so a lost race is 401 `invalid_token`. */
  async #userChange(user: UserRecord, event: CredentialEvent, options?: ChangeOptions): Promise<{ user: UserRecord; tokens: SessionTokens | undefined }> {
    const changed = await changeCredentials(this.#credentials, user, event, options);
    if (!changed) throw invalidToken('revoked');
    return changed;
  }

  /** An operator's change (the CLI): applied to the user as it is by then, so the operator wins races. */
  async #operatorChange(user: UserRecord, event: CredentialEvent): Promise<void> {
    if (!(await changeCredentials(this.#credentials, user, event, { retry: true }))) {
      throw notFound(`There is no user named ${JSON.stringify(user.username)}.`);
    }
  }

  /**
   * The login check: throttle, look up, verify. Unknown users pay for a dummy verify so that both
   * failures take about the same time and give the same answer. `upgrade`: store a hash with the
   * current parameters when the stored one has others (at login only: a current-password check is
   * about to replace or delete the hash anyway).
   */
  async #checkPassword(username: string, password: string, ctx: RequestContext, status: 401 | 403, upgrade: boolean): Promise<UserRecord> {
    const address = ctx.address;
    const throttle = this.#o.throttle;
    const known = await this.#knownDevice(username, ctx);
    const device = known?.device;
    if (throttle) {
      const decision = await throttle.check(username, address, device);
      if (!decision.allowed) {
        this.#emit({ type: 'login_failed', reason: 'rate_limited' });
        throw rateLimited(decision.retryAfter);
      }
    }
    const user = known ? known.user : isPossibleUsername(username) ? await this.#o.store.findUserByUsername(username) : undefined;
    const result = user
      ? await this.#o.hasher.verify(user.passwordHash, password)
      : { ok: await this.#o.hasher.verifyDummy(password), needsRehash: false };
    if (!user || !result.ok) {
      await throttle?.recordFailure(username, address, device);
      this.#emit({ type: 'login_failed', reason: user ? 'wrong_password' : 'unknown_user' });
      throw invalidCredentials(status);
    }
    await throttle?.recordSuccess(username, address, device);
    if (upgrade && result.needsRehash) this.#rehash(user, password);
    return user;
  }

  /**
   * When throttling is on and the request presents device-cookie entries: the user the username
   * names (looked up first, since an entry is checked against the user's id and device epoch) and
   * the entry valid for that user, if any. Undefined otherwise. An unknown username, or an entry
   * for anyone else, finds no device, so such attempts are throttled like any other.
   */
  async #knownDevice(username: string, ctx: RequestContext): Promise<{ user: UserRecord | undefined; device: KnownDevice | undefined } | undefined> {
    const devices = this.#o.devices;
    if (!this.#o.throttle || !devices) return undefined;
    const entries = devices.parse(ctx.device);
    if (entries.length === 0) return undefined;
    const user = isPossibleUsername(username) ? await this.#o.store.findUserByUsername(username) : undefined;
    const entry = user && devices.match(entries, user);
    return { user, device: entry && { id: entry.id, userId: entry.userId } };
  }

  async #verifyCurrentPassword(user: UserRecord, password: string, ctx: RequestContext): Promise<void> {
    if (password.length === 0 || password.length > PASSWORD_MAX * 4) {
      throw invalidRequest('password must be 1 to 1024 characters long');
    }
    await this.#checkPassword(user.username, password, ctx, 403, false);
  }

  /**
   * Upgrades a hash made with older parameters. The credential version stays: nobody is logged out.
   * Written only over the hash that was verified, so an upgrade finishing after a password change
   * cannot write the old password back.
   */
  #rehash(user: UserRecord, password: string): void {
    this.#o.hasher
      .hash(password)
      .then((hash) => this.#o.store.setPasswordHash(user.id, hash, user.passwordHash))
      .catch(() => this.#emit({ type: 'rehash_failed', userId: user.id }));
  }

  async #revokeBelow(userId: string, version: number): Promise<void> {
    const expiresAt = new Date(this.#now() + (this.#o.accessTokens.ttl + REVOCATION_SLACK_SECONDS) * 1000);
    await this.#o.revocations.publish({ kind: 'user', userId, version, expiresAt });
  }

  /** A grant of a completed sign-in: with the device cookie, to which it adds an entry for the user. */
  #signedIn(user: UserRecord, grant: Grant, ctx: RequestContext): Grant {
    const devices = this.#o.devices;
    return devices ? { ...grant, device: devices.add(ctx.device, devices.issue(user)) } : grant;
  }

  /** An access token for the session, with its refresh token. */
  #grant(user: UserRecord, tokens: SessionTokens): Grant {
    const access = this.#o.accessTokens.issue(user, tokens.sid, tokens.authTime);
    return {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken: tokens.refreshToken,
      refreshMaxAge: tokens.refreshMaxAge,
      user: publicUser(user),
    };
  }

  #refreshFailed(reason: string): never {
    this.#emit({ type: 'refresh_failed', reason });
    throw invalidRefreshToken();
  }
}

function publicUser(user: UserRecord): PublicUser {
  return { id: user.id, username: user.username };
}
