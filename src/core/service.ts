/**
 * The auth service: signup, login, refresh, logout, password change, account deletion and the
 * operator's user management, as plain functions over a Store. No HTTP types here: the HTTP layer
 * turns requests into these calls and {@link AuthError}s into responses.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Store, UserRecord } from '../store/types.js';
import { UsernameTakenError } from '../store/types.js';
import type { AccessClaims, AccessTokens } from './access-tokens.js';
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
import type { LoginThrottle } from './limits/index.js';
import type { PasswordHasher } from './password.js';
import { RefreshTokens } from './refresh-tokens.js';
import { DELETED_VERSION, type RevocationFeed } from './revocations.js';
import { checkPassword, checkUsername, PASSWORD_MAX } from './validate.js';

/** Who is asking: the client address (for throttling) and user agent. */
export interface RequestContext {
  readonly address: string;
  readonly userAgent?: string | undefined;
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
}

/** Things the service reports for logs and metrics; never secrets. */
export type AuthEvent =
  | { readonly type: 'signup' | 'login' | 'refresh' | 'password_changed' | 'logout_all' | 'account_deleted'; readonly userId: string }
  | { readonly type: 'login_failed'; readonly reason: 'unknown_user' | 'wrong_password' | 'suspended' | 'rate_limited' }
  | { readonly type: 'refresh_failed'; readonly reason: string }
  | { readonly type: 'rehash_failed'; readonly userId: string };

export interface AuthServiceOptions {
  readonly store: Store;
  readonly hasher: PasswordHasher;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly revocations: RevocationFeed;
  /** Failed-password throttling; omitted when rate limits are off. */
  readonly throttle?: LoginThrottle | undefined;
  /** Sliding refresh lifetime, seconds. */
  readonly refreshTtl: number;
  /** Absolute session lifetime from login, seconds. */
  readonly sessionMax: number;
  readonly clock?: () => number;
  readonly onEvent?: (event: AuthEvent) => void;
}

/** Slack added to revocation notices so a token verified with leeway is still covered. */
const REVOCATION_SLACK_SECONDS = 60;

/** The auth service. */
export class AuthService {
  readonly #o: AuthServiceOptions;
  readonly #now: () => number;
  readonly #emit: (event: AuthEvent) => void;

  constructor(options: AuthServiceOptions) {
    this.#o = options;
    this.#now = options.clock ?? Date.now;
    this.#emit = options.onEvent ?? (() => undefined);
  }

  /** Creates an account and starts a session. */
  async signup(username: string, password: string, _ctx: RequestContext): Promise<Grant> {
    checkUsername(username, 'signup');
    checkPassword(password);
    if (await this.#o.store.findUserByUsername(username)) throw usernameTaken();
    const user = await this.#createUser(username, password);
    this.#emit({ type: 'signup', userId: user.id });
    return this.#startSession(user);
  }

  /** Checks a username and password and starts a session. */
  async login(username: string, password: string, ctx: RequestContext): Promise<Grant> {
    checkUsername(username, 'login');
    checkPassword(password);
    const user = await this.#checkPassword(username, password, ctx, 401);
    if (user.suspended) {
      this.#emit({ type: 'login_failed', reason: 'suspended' });
      throw accountSuspended();
    }
    this.#emit({ type: 'login', userId: user.id });
    return this.#startSession(user);
  }

  /** Exchanges a valid refresh token for a new access token and a refresh token with a later expiry. */
  async refresh(refreshToken: string, _ctx: RequestContext): Promise<Grant> {
    const userId = this.#o.refreshTokens.peekSubject(refreshToken);
    const user = userId === undefined ? undefined : await this.#o.store.findUserById(userId);
    if (!user || user.suspended) return this.#refreshFailed(user ? 'suspended' : 'unknown_user');
    let claims;
    try {
      claims = this.#o.refreshTokens.verify(refreshToken, user);
    } catch (error) {
      return this.#refreshFailed('invalid', error);
    }
    const grant = this.#issue(user, claims.sid, claims.auth_time);
    if (!grant) return this.#refreshFailed('session_max');
    this.#emit({ type: 'refresh', userId: user.id });
    return grant;
  }

  /**
   * Ends this browser's session. With stateless refresh tokens there is nothing to revoke: the
   * cookie is cleared by the caller, and a copied token lives on until a credential event.
   */
  async logout(_refreshToken: string | undefined): Promise<void> {
    // Stateless: nothing is stored per session.
  }

  /** Ends every session of the token's user: every refresh token and outstanding access token. */
  async logoutAll(claims: AccessClaims): Promise<void> {
    const user = await this.#o.store.bumpCredentialVersion(claims.sub);
    if (!user) throw invalidToken();
    await this.#revokeBelow(user.id, user.credentialVersion);
    this.#emit({ type: 'logout_all', userId: user.id });
  }

  /** Changes the password: this session goes on with fresh tokens, every other one ends. */
  async changePassword(claims: AccessClaims, currentPassword: string, newPassword: string, ctx: RequestContext): Promise<Grant> {
    checkPassword(newPassword, 'newPassword');
    const user = await this.#requireUser(claims);
    await this.#verifyCurrentPassword(user, currentPassword, ctx);
    const passwordHash = await this.#o.hasher.hash(newPassword);
    const updated = await this.#o.store.bumpCredentialVersion(user.id, { passwordHash });
    if (!updated) throw invalidToken();
    await this.#revokeBelow(updated.id, updated.credentialVersion);
    this.#emit({ type: 'password_changed', userId: updated.id });
    const authTime = typeof claims['auth_time'] === 'number' ? claims['auth_time'] : Math.floor(this.#now() / 1000);
    return this.#issue(updated, claims.sid, authTime) ?? this.#startSession(updated);
  }

  /** The token's user, fresh from the store. */
  async me(claims: AccessClaims): Promise<PublicUser> {
    return publicUser(await this.#requireUser(claims));
  }

  /** Deletes the account after checking its password; its tokens stop working at once. */
  async deleteAccount(claims: AccessClaims, password: string, ctx: RequestContext): Promise<void> {
    const user = await this.#requireUser(claims);
    await this.#verifyCurrentPassword(user, password, ctx);
    await this.#deleteUser(user);
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
    const updated = await this.#o.store.bumpCredentialVersion(user.id, { passwordHash });
    if (updated) await this.#revokeBelow(updated.id, updated.credentialVersion);
  }

  /** Suspends or unsuspends a user; either way every existing token of the user ends. */
  async setSuspended(username: string, suspended: boolean): Promise<void> {
    const user = await this.#userNamed(username);
    const updated = await this.#o.store.bumpCredentialVersion(user.id, { suspended });
    if (updated) await this.#revokeBelow(updated.id, updated.credentialVersion);
  }

  /** Deletes a user by name. */
  async deleteUserNamed(username: string): Promise<void> {
    await this.#deleteUser(await this.#userNamed(username));
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

  async #userNamed(username: string): Promise<UserRecord> {
    const user = await this.#o.store.findUserByUsername(username);
    if (!user) throw notFound(`There is no user named ${JSON.stringify(username)}.`);
    return user;
  }

  async #requireUser(claims: AccessClaims): Promise<UserRecord> {
    const user = await this.#o.store.findUserById(claims.sub);
    // A token outliving its account (or its credential version) is simply invalid.
    if (!user || user.credentialVersion > claims.ver) throw invalidToken('revoked');
    return user;
  }

  /**
   * The login check: throttle, look up, verify. Unknown users pay for a dummy verify so that both
   * failures take about the same time and give the same answer.
   */
  async #checkPassword(username: string, password: string, ctx: RequestContext, status: 401 | 403): Promise<UserRecord> {
    const address = ctx.address;
    const throttle = this.#o.throttle;
    if (throttle) {
      const decision = await throttle.check(username, address);
      if (!decision.allowed) {
        this.#emit({ type: 'login_failed', reason: 'rate_limited' });
        throw rateLimited(decision.retryAfter);
      }
    }
    const user = await this.#o.store.findUserByUsername(username);
    const result = user
      ? await this.#o.hasher.verify(user.passwordHash, password)
      : { ok: await this.#o.hasher.verifyDummy(password), needsRehash: false };
    if (!user || !result.ok) {
      await throttle?.recordFailure(username, address);
      this.#emit({ type: 'login_failed', reason: user ? 'wrong_password' : 'unknown_user' });
      throw invalidCredentials(status);
    }
    await throttle?.recordSuccess(username, address);
    if (result.needsRehash) this.#rehash(user, password);
    return user;
  }

  async #verifyCurrentPassword(user: UserRecord, password: string, ctx: RequestContext): Promise<void> {
    if (password.length === 0 || password.length > PASSWORD_MAX * 4) {
      throw invalidRequest('password must be 1 to 1024 characters long');
    }
    await this.#checkPassword(user.username, password, ctx, 403);
  }

  /** Upgrades a hash made with older parameters. The credential version stays: nobody is logged out. */
  #rehash(user: UserRecord, password: string): void {
    this.#o.hasher
      .hash(password)
      .then((hash) => this.#o.store.setPasswordHash(user.id, hash))
      .catch(() => this.#emit({ type: 'rehash_failed', userId: user.id }));
  }

  async #deleteUser(user: UserRecord): Promise<void> {
    await this.#o.store.deleteUser(user.id);
    await this.#revokeBelow(user.id, DELETED_VERSION);
  }

  async #revokeBelow(userId: string, version: number): Promise<void> {
    const expiresAt = new Date(this.#now() + (this.#o.accessTokens.ttl + REVOCATION_SLACK_SECONDS) * 1000);
    await this.#o.revocations.publish({ kind: 'user', userId, version, expiresAt });
  }

  #startSession(user: UserRecord): Grant {
    const grant = this.#issue(user, RefreshTokens.newSessionId(), Math.floor(this.#now() / 1000));
    if (!grant) throw new AuthError('unavailable', 503, 'Could not start a session.', 1);
    return grant;
  }

  /** Issues an access and a refresh token, or undefined when the session's absolute lifetime is over. */
  #issue(user: UserRecord, sid: string, authTime: number): Grant | undefined {
    const now = Math.floor(this.#now() / 1000);
    const exp = Math.min(now + this.#o.refreshTtl, authTime + this.#o.sessionMax);
    if (exp <= now) return undefined;
    const access = this.#o.accessTokens.issue(user, sid, authTime);
    const refreshToken = this.#o.refreshTokens.issue(user, { sub: user.id, sid, auth_time: authTime, iat: now, exp });
    return {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken,
      refreshMaxAge: exp - now,
      user: publicUser(user),
    };
  }

  #refreshFailed(reason: string, _error?: unknown): never {
    this.#emit({ type: 'refresh_failed', reason });
    throw invalidRefreshToken();
  }
}

function publicUser(user: UserRecord): PublicUser {
  return { id: user.id, username: user.username };
}
