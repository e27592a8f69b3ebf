/**
 * The stateless strategy (the seed's design, made robust): the refresh token carries its session
 * id, start time and expiry, signed under the user's derived key. Nothing is stored per session,
 * so a single session cannot be ended on its own — only every session of the user at once, by a
 * credential event.
 */
import { randomBytes } from 'node:crypto';
import type { UserRecord } from '../../store/types.js';
import { invalidRefreshToken, notSupported } from '../errors.js';
import { nextExpiry, type SessionStrategy, type SessionTokens, type StrategyDeps } from './types.js';

const TYP = 'hush-rt+jwt';

interface StatelessClaims {
  readonly sub: string;
  readonly sid: string;
  readonly auth_time: number;
  readonly iat: number;
  readonly exp: number;
}

function isStatelessClaims(v: Readonly<Record<string, unknown>>): v is StatelessClaims & Record<string, unknown> {
  return typeof v['sid'] === 'string' && Number.isFinite(v['auth_time']) && Number.isFinite(v['iat']) && Number.isFinite(v['exp']);
}

const unsupported = (): Error => notSupported('Session lists need HUSH_REFRESH_STRATEGY=rotating.');

/** Creates the stateless strategy. */
export function statelessSessions({ codec, policy }: StrategyDeps): SessionStrategy {
  const issue = (user: UserRecord, sid: string, authTime: number): SessionTokens | undefined => {
    const exp = nextExpiry(policy, authTime);
    if (exp === undefined) return undefined;
    const now = Math.floor(policy.clock() / 1000);
    const refreshToken = codec.sign(user, TYP, { sub: user.id, sid, auth_time: authTime, iat: now, exp });
    return { sid, authTime, refreshToken, refreshMaxAge: exp - now };
  };

  return {
    kind: 'stateless',
    subjectOf: (token) => codec.peekSubject(token),
    async start(user) {
      const tokens = issue(user, randomBytes(16).toString('base64url'), Math.floor(policy.clock() / 1000));
      if (!tokens) throw invalidRefreshToken();
      return tokens;
    },
    async refresh(user, token) {
      const claims = codec.verify(token, user, TYP);
      if (!isStatelessClaims(claims) || claims.exp * 1000 <= policy.clock()) throw invalidRefreshToken();
      const tokens = issue(user, claims.sid, claims.auth_time);
      if (!tokens) throw invalidRefreshToken();
      return tokens;
    },
    async continueAfterCredentialChange(user, sid, authTime) {
      // The other sessions already ended: their tokens were signed under the old key.
      return sid === undefined ? undefined : issue(user, sid, authTime);
    },
    async end() {
      // Nothing is stored: the caller clears the cookie, and a copied token lives on until a credential event.
      return undefined;
    },
    async list() {
      throw unsupported();
    },
    async endById() {
      throw unsupported();
    },
  };
}
