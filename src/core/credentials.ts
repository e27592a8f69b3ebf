/**
 * @module
 * The one credential-change primitive. Every event that changes what a user's credentials are — a
 * password change or reset, suspension, unsuspension, logout-all, account deletion — goes through
 * {@link changeCredentials}, so "how does X end sessions" has one answer:
 *
 * 1. a compare-and-swap on the credential version the caller read (README, "Design and trade-offs"): a
 *    change decided on a stale read writes nothing, so a user's password change in flight cannot
 *    cancel an operator's suspension or reset that came first;
 * 2. a revocation notice for the user's access tokens below the new version (every instance refuses
 *    them within 2 s);
 * 3. the sessions: every one ends, or every one but the session that made the change, which goes on
 *    under the new key.
 *
 * Its counterpart {@link startSession} starts a session only for a user whose credentials did not
 * change meanwhile, so no route starts a session for a suspended user.
 */
import type { CredentialChange, Store, UserRecord } from '../store/types.js';
import { accountSuspended, AuthError, invalidCredentials, unavailable } from './errors.js';
import { DELETED_VERSION } from './revocations.js';
import type { SessionOrigin, SessionStrategy, SessionTokens } from './sessions/types.js';

/** What {@link changeCredentials} and {@link startSession} need. */
export interface CredentialDeps {
  readonly store: Pick<Store, 'findUserById' | 'bumpCredentialVersion' | 'deleteUser'>;
  readonly sessions: SessionStrategy;
  /** Publishes a revocation notice: the user's access tokens below `version` are refused. */
  readonly revokeUser: (userId: string, version: number) => Promise<void>;
}

/** A credential event. Logout-all changes nothing but the version, which ends every session. */
export type CredentialEvent =
  | { readonly kind: 'password'; readonly passwordHash: string }
  | { readonly kind: 'suspension'; readonly suspended: boolean }
  | { readonly kind: 'logout-all' }
  | { readonly kind: 'deletion' };

/** How a change treats the session that asked, and lost races. */
export interface ChangeOptions {
  /**
   * The session that made the change goes on under the new key (a password change); when it cannot
   * (its lifetime is over), a new one starts for `origin`. Absent: every session of the user ends.
   */
  readonly keep?: { readonly sid: string; readonly authTime: number; readonly origin: SessionOrigin } | undefined;
  /**
   * An operator's change: when another change came first, read the user again and apply it to that
   * (the operator wins). A user's change never retries: it was decided on what it read.
   */
  readonly retry?: boolean;
}

/** A change that took effect. */
export interface CredentialsChanged {
  /** The user as written (for a deletion, as last read). */
  readonly user: UserRecord;
  /** The kept session's tokens under the new key (with `keep`), else undefined. */
  readonly tokens: SessionTokens | undefined;
}

/**
 * An operator's change retries on every lost race; a user must change credentials this often within
 * one operator round trip to exhaust it, which needs far more hashing than any server has.
 */
const OPERATOR_ATTEMPTS = 100;

/**
 * Applies `event` to `user` as read, by compare-and-swap on `user.credentialVersion`, then revokes
 * the user's access tokens and ends (or, with `keep`, continues) sessions.
 *
 * @returns the change, or undefined when it did not (or, with `keep`, no longer) hold: another change
 *   came first or the user is gone (with `retry`, only the latter). Callers refuse it: a user's lost
 *   change is 401 `invalid_token`.
 * @throws AuthError `unavailable` (503) when an operator's change lost {@link OPERATOR_ATTEMPTS} races in a row.
 */
export async function changeCredentials(
  deps: CredentialDeps,
  user: UserRecord,
  event: CredentialEvent,
  options: ChangeOptions = {},
): Promise<CredentialsChanged | undefined> {
  let read: UserRecord | undefined = user;
  for (let attempt = 1; read; attempt++) {
    const written = await write(deps, read, event);
    if (written) return settle(deps, written, event, options);
    if (!options.retry) return undefined;
    if (attempt >= OPERATOR_ATTEMPTS) throw unavailable(1, "The user's credentials kept changing; try again.");
    read = await deps.store.findUserById(user.id);
  }
  return undefined;
}

/** The compare-and-swap itself. Returns the user as written, or undefined when it lost. */
async function write(deps: CredentialDeps, user: UserRecord, event: CredentialEvent): Promise<UserRecord | undefined> {
  if (event.kind === 'deletion') {
    return (await deps.store.deleteUser(user.id, user.credentialVersion)) ? user : undefined;
  }
  const change: CredentialChange =
    event.kind === 'password'
      ? { passwordHash: event.passwordHash }
      : event.kind === 'suspension'
        ? // Suspension ends the user's device cookies; unsuspension revives none.
          { suspended: event.suspended, endDevices: event.suspended }
        : { endDevices: true }; // logout-all
  return deps.store.bumpCredentialVersion(user.id, user.credentialVersion, change);
}

/** After the write: the notice, then the sessions. */
async function settle(deps: CredentialDeps, user: UserRecord, event: CredentialEvent, options: ChangeOptions): Promise<CredentialsChanged | undefined> {
  if (event.kind === 'deletion') {
    // The user's session rows went with it; the notice refuses its access tokens.
    await deps.revokeUser(user.id, DELETED_VERSION);
    return { user, tokens: undefined };
  }
  await deps.revokeUser(user.id, user.credentialVersion);
  const { keep } = options;
  const continued = await deps.sessions.continueAfterCredentialChange(user, keep?.sid, keep?.authTime ?? 0);
  if (!keep) return { user, tokens: undefined };
  const tokens = continued ?? (await deps.sessions.start(user, keep.origin));
  return (await confirm(deps, user, tokens)) === 'current' ? { user, tokens } : undefined;
}

/**
 * Starts a session for `user` (login, signup) unless the user's credentials changed since they were
 * read: then the session is ended again and the start refused.
 *
 * @throws AuthError `account_suspended` (403) when the user was suspended meanwhile, `invalid_credentials`
 *   (401) when the user is gone or the credentials otherwise changed (the password proven may be stale).
 */
export async function startSession(deps: CredentialDeps, user: UserRecord, origin: SessionOrigin): Promise<SessionTokens> {
  const tokens = await deps.sessions.start(user, origin);
  const state = await confirm(deps, user, tokens);
  if (state === 'current') return tokens;
  throw state === 'suspended' ? accountSuspended() : invalidCredentials(401);
}

/**
 * Whether the user is still as `user` says (same version, not suspended) after `tokens` were issued
 * for it; if not, ends that session. Reading after the session exists closes the race with a
 * concurrent change: a change committed before this read is seen here; one committed after it ends
 * every session then in the store, this one included (and its tokens are bound to the old version).
 */
async function confirm(deps: CredentialDeps, user: UserRecord, tokens: SessionTokens): Promise<'current' | 'suspended' | 'changed'> {
  const now = await deps.store.findUserById(user.id);
  if (now && now.credentialVersion === user.credentialVersion && !now.suspended) return 'current';
  try {
    await deps.sessions.end(user, tokens.refreshToken);
  } catch (error) {
    // Already ended (its token verifies under the version it was issued for, so this is rare).
    if (!(error instanceof AuthError)) throw error;
  }
  return now?.suspended ? 'suspended' : 'changed';
}
