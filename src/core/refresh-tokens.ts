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
import { createVerifier, importSecret, signJws, type JwtKey, type JwtPayload } from '../jwt/index.js';
import { invalidRefreshToken } from './errors.js';

const KEY_LABEL = 'hush refresh key v1';
/** Credential states whose derived key and verifiers are kept (a refresh derives none then). */
const KEY_CACHE_SIZE = 10_000;

/** A derived key with the verifiers compiled for it, one per token type. */
interface DerivedKey {
  readonly key: JwtKey;
  readonly verifiers: Map<string, (token: string) => JwtPayload>;
}

/** The parts of a user the refresh key is derived from. */
export interface CredentialState {
  readonly id: string;
  readonly salt: string;
  readonly credentialVersion: number;
}

/** Signs and verifies refresh tokens under per-user derived keys. */
export class RefreshTokenCodec {
  readonly #secret: Buffer;
  /** Insertion-ordered, so the oldest entry is the first to go. */
  readonly #keys = new Map<string, DerivedKey>();
  readonly #clock: () => number;

  constructor(refreshSecret: string, clock: () => number = Date.now) {
    this.#secret = Buffer.from(refreshSecret, 'utf8');
    this.#clock = clock;
  }

  /** Derives the user's current refresh key. */
  keyFor(user: CredentialState): JwtKey {
    return this.#derived(user).key;
  }

  #derived(user: CredentialState): DerivedKey {
    // Length-prefixed fields: no two states can serialise to the same input.
    const input = [KEY_LABEL, user.id, user.salt, String(user.credentialVersion)].map((part) => `${part.length}:${part};`).join('');
    let derived = this.#keys.get(input);
    if (derived === undefined) {
      const key = importSecret(createHmac('sha256', this.#secret).update(input).digest(), 'HS256');
      derived = { key, verifiers: new Map() };
      if (this.#keys.size >= KEY_CACHE_SIZE) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(input, derived);
    }
    return derived;
  }

  /** Signs `claims` (which must include `sub`) for `user`. Deterministic: equal inputs, equal bytes. */
  sign(user: CredentialState, typ: string, claims: Readonly<Record<string, unknown>>): string {
    return signJws(JSON.stringify(claims), this.#derived(user).key, { typ });
  }

  /**
   * Reads the user id from a token without trusting it, to find whose key to verify with.
   * Deliberately lenient (verification is strict): undefined for anything without a string `sub`.
   */
  peekSubject(token: string): string | undefined {
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    if (first < 1 || second < 0 || second - first > 2048) return undefined;
    try {
      const payload: unknown = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
      const sub = typeof payload === 'object' && payload !== null ? (payload as { sub?: unknown }).sub : undefined;
      return typeof sub === 'string' ? sub : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Verifies `token` of type `typ` under `user`'s current key (signature, `typ`, and `exp` when
   * present); throws 401 `invalid_refresh_token` otherwise.
   */
  verify(token: string, user: CredentialState, typ: string): Readonly<Record<string, unknown>> {
    const derived = this.#derived(user);
    let verifier = derived.verifiers.get(typ);
    if (verifier === undefined) {
      verifier = createVerifier({ keys: derived.key, algorithms: ['HS256'], typ, requiredClaims: ['sub'], clock: this.#clock });
      derived.verifiers.set(typ, verifier);
    }
    let claims: JwtPayload;
    try {
      claims = verifier(token);
    } catch {
      throw invalidRefreshToken();
    }
    if (claims.sub !== user.id) throw invalidRefreshToken();
    return claims;
  }
}
