/**
 * A session strategy decides what a refresh token is and what ending a session means. The
 * service calls it for every session event; the two strategies are `stateless` (nothing stored)
 * and `rotating` (one row per session).
 */
import type { UserRecord } from '../../store/types.js';
import type { RefreshTokenCodec } from '../refresh-tokens.js';

/** Who started a session: recorded by the rotating strategy. */
export interface SessionOrigin {
  readonly address: string;
  readonly userAgent?: string | undefined;
}

/** A session's refresh token, with what the access token and the cookie need. */
export interface SessionTokens {
  readonly sid: string;
  /** When the session started, seconds since the epoch. */
  readonly authTime: number;
  readonly refreshToken: string;
  /** Remaining refresh lifetime in seconds (the cookie's Max-Age). */
  readonly refreshMaxAge: number;
}

/** A session as `GET /auth/sessions` shows it. */
export interface SessionInfo {
  readonly id: string;
  readonly current: boolean;
  readonly createdAt: string;
  readonly lastUsedAt: string;
  readonly expiresAt: string;
  readonly userAgent: string | null;
  readonly address: string | null;
}

/** Lifetimes, in seconds, and the clock. */
export interface SessionPolicy {
  readonly refreshTtl: number;
  readonly sessionMax: number;
  readonly reuseGrace: number;
  readonly clock: () => number;
}

export interface SessionStrategy {
  readonly kind: 'stateless' | 'rotating';
  /** The user a refresh token claims to be for (unverified), to load their credential state. */
  subjectOf(refreshToken: string): string | undefined;
  /** Starts a session at login or signup. */
  start(user: UserRecord, origin: SessionOrigin): Promise<SessionTokens>;
  /** Verifies a refresh token of `user` and issues the next one; throws `invalid_refresh_token`. */
  refresh(user: UserRecord, refreshToken: string): Promise<SessionTokens>;
  /**
   * After a credential change bumped the version: the session `sid` continues under the new key
   * (undefined when it cannot, e.g. its lifetime is over); every other session of the user ends.
   */
  continueAfterCredentialChange(user: UserRecord, sid: string | undefined, authTime: number): Promise<SessionTokens | undefined>;
  /** Ends the session of a refresh token, where the strategy can. Returns the ended session's id. */
  end(user: UserRecord, refreshToken: string): Promise<string | undefined>;
  /** Lists the user's live sessions; throws `not_supported` where there are none to list. */
  list(user: UserRecord, currentSid: string): Promise<SessionInfo[]>;
  /** Ends one of the user's sessions by id; throws `not_found` or `not_supported`. */
  endById(user: UserRecord, sid: string): Promise<void>;
}

/** What every strategy is built from. */
export interface StrategyDeps {
  readonly codec: RefreshTokenCodec;
  readonly policy: SessionPolicy;
}

/** The sliding expiry of a session that started at `authTime`, or undefined when it is over. */
export function nextExpiry(policy: SessionPolicy, authTime: number): number | undefined {
  const now = Math.floor(policy.clock() / 1000);
  const exp = Math.min(now + policy.refreshTtl, authTime + policy.sessionMax);
  return exp > now ? exp : undefined;
}
