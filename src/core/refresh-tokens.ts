/**
 * The refresh-token codec: an HS256 JWS whose key is derived from the server-only refresh secret
 * and the user's credential state (per-user salt + credential version). Bumping the version — on a
 * password change, suspension, unsuspension or logout-all — changes the key, so every refresh token
 * of that user stops verifying at once, with no token table.
 *
 * The key never depends on the password hash itself, so rehashing with new parameters logs nobody
 * out; and the version only grows, so unsuspending cannot revive a token issued before suspension.
 * Each strategy signs its own claims under its own `typ`, so a token of one is never taken for
 * the other's (nor for an access token, which is signed under another secret and `typ`).
 */
import { createHmac } from 'node:crypto';
import { decode, importSecret, signJws, verifyJws, type JwtKey } from '../jwt/index.js';
import { invalidRefreshToken } from './errors.js';

const KEY_LABEL = 'hush refresh key v1';

/** The parts of a user the refresh key is derived from. */
export interface CredentialState {
  readonly id: string;
  readonly salt: string;
  readonly credentialVersion: number;
}

/** Signs and verifies refresh tokens under per-user derived keys. */
export class RefreshTokenCodec {
  readonly #secret: Buffer;

  constructor(refreshSecret: string) {
    this.#secret = Buffer.from(refreshSecret, 'utf8');
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

  /** Signs `claims` (which must include `sub`) for `user`. Deterministic: equal inputs, equal bytes. */
  sign(user: CredentialState, typ: string, claims: Readonly<Record<string, unknown>>): string {
    return signJws(JSON.stringify(claims), this.keyFor(user), { typ });
  }

  /**
   * Reads the user id from a token of type `typ` without trusting it, to find whose key to verify
   * with. Undefined for anything that is not shaped like such a token.
   */
  peekSubject(token: string, typ: string): string | undefined {
    try {
      const { header, payload } = decode(token);
      if (header['typ'] !== typ || typeof payload !== 'object' || payload === null) return undefined;
      return typeof payload.sub === 'string' ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }

  /** Verifies `token` of type `typ` under `user`'s current key; throws 401 `invalid_refresh_token` otherwise. */
  verify(token: string, user: CredentialState, typ: string): Readonly<Record<string, unknown>> {
    let claims: unknown;
    try {
      const { header, payload } = verifyJws(token, { keys: this.keyFor(user), algorithms: ['HS256'] });
      if (header['typ'] !== typ) throw invalidRefreshToken();
      claims = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      throw invalidRefreshToken();
    }
    if (typeof claims !== 'object' || claims === null || (claims as { sub?: unknown }).sub !== user.id) {
      throw invalidRefreshToken();
    }
    return claims as Readonly<Record<string, unknown>>;
  }
}
