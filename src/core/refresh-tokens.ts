/**
 * Stateless refresh tokens: an HS256 JWS whose key is derived from the server-only refresh secret
 * and the user's credential state (per-user salt + credential version). Bumping the version — on a
 * password change, suspension, unsuspension or logout-all — changes the key, so every refresh token
 * of that user stops verifying at once, with no token table.
 *
 * The key never depends on the password hash itself, so rehashing with new parameters logs nobody
 * out; and the version only grows, so unsuspending cannot revive a token issued before suspension.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { decode, importSecret, signJws, verifyJws, type JwtKey } from '../jwt/index.js';
import { invalidRefreshToken } from './errors.js';

const TYP = 'hush-rt+jwt';
const KEY_LABEL = 'hush refresh key v1';

/** What a refresh token says, once verified. Times in seconds since the epoch. */
export interface RefreshClaims {
  readonly sub: string;
  readonly sid: string;
  /** When the session started (login or signup): the absolute lifetime counts from here. */
  readonly auth_time: number;
  readonly iat: number;
  readonly exp: number;
}

/** The parts of a user the refresh key is derived from. */
export interface CredentialState {
  readonly id: string;
  readonly salt: string;
  readonly credentialVersion: number;
}

/** Issues and checks stateless refresh tokens. */
export class RefreshTokens {
  readonly #secret: Buffer;
  readonly #now: () => number;

  constructor(refreshSecret: string, clock: () => number = Date.now) {
    this.#secret = Buffer.from(refreshSecret, 'utf8');
    this.#now = clock;
  }

  /** A new random session id (128 bits). */
  static newSessionId(): string {
    return randomBytes(16).toString('base64url');
  }

  /** Derives the user's current refresh key. */
  keyFor(user: CredentialState): JwtKey {
    const mac = createHmac('sha256', this.#secret);
    // Length-prefixed fields: no two states can serialise to the same input.
    for (const part of [KEY_LABEL, user.id, user.salt, String(user.credentialVersion)]) {
      mac.update(`${part.length}:${part};`);
    }
    return importSecret(mac.digest(), 'HS256');
  }

  /** Issues a refresh token for `claims`. */
  issue(user: CredentialState, claims: RefreshClaims): string {
    return signJws(JSON.stringify(claims), this.keyFor(user), { typ: TYP });
  }

  /**
   * Reads the user id from a token without trusting it, to find whose key to verify with.
   * Returns undefined for anything that is not shaped like one of our refresh tokens.
   */
  peekSubject(token: string): string | undefined {
    try {
      const { header, payload } = decode(token);
      if (header['typ'] !== TYP || typeof payload !== 'object' || payload === null) return undefined;
      return typeof payload.sub === 'string' ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }

  /** Verifies `token` under `user`'s current key; throws 401 `invalid_refresh_token` otherwise. */
  verify(token: string, user: CredentialState): RefreshClaims {
    let claims: unknown;
    try {
      const { header, payload } = verifyJws(token, { keys: this.keyFor(user), algorithms: ['HS256'] });
      if (header['typ'] !== TYP) throw invalidRefreshToken();
      claims = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      throw invalidRefreshToken();
    }
    if (!isRefreshClaims(claims) || claims.sub !== user.id) throw invalidRefreshToken();
    if (claims.exp * 1000 <= this.#now()) throw invalidRefreshToken();
    return claims;
  }
}

function isRefreshClaims(value: unknown): value is RefreshClaims {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['sub'] === 'string' &&
    typeof v['sid'] === 'string' &&
    Number.isFinite(v['auth_time']) &&
    Number.isFinite(v['iat']) &&
    Number.isFinite(v['exp'])
  );
}
