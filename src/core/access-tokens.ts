/**
 * Access tokens: short-lived JWTs (RFC 9068 `at+jwt`) signed with the server's key and verified
 * without I/O. Verification is the per-request path: one compiled verifier with the
 * verified-token cache, and retired HS256 secrets tried only after the current one fails.
 */
import { randomBytes } from 'node:crypto';

/** Entropy drawn in bulk: one system call per 256 token ids instead of one each. */
const ID_BYTES = 12;
const POOL_SIZE = ID_BYTES * 256;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

/** A random 96-bit token id, base64url. */
function randomId(): string {
  if (offset + ID_BYTES > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  offset += ID_BYTES;
  return pool.toString('base64url', offset - ID_BYTES, offset);
}
import {
  createSigner,
  createVerifier,
  JwsSignatureInvalidError,
  JwtError,
  type Algorithm,
  type JwtKey,
  type JwtPayload,
  type KeySet,
} from '../jwt/index.js';
import { invalidToken, type TokenProblem } from './errors.js';

/** The claims hush puts in every access token. */
export interface AccessClaims extends JwtPayload {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  readonly client_id: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly sid: string;
  readonly preferred_username: string;
  /** The user's credential version when the token was issued; revocation compares against it. */
  readonly ver: number;
}

/** Names a custom-claims hook may not set. */
const RESERVED = new Set(['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'nbf', 'jti', 'sid', 'preferred_username', 'ver', 'auth_time']);

/** A hook adding custom claims (roles, say) to access tokens. */
export type ClaimsHook = (user: { readonly id: string; readonly username: string }) => Readonly<Record<string, unknown>>;

export interface AccessTokenOptions {
  /** Signs new tokens (its active key for asymmetric algorithms). */
  readonly signingKeys: KeySet;
  /** Retired keys still accepted (HS256 previous secrets). */
  readonly previousKeys?: readonly JwtKey[];
  readonly algorithm: Algorithm;
  readonly issuer: string;
  readonly audience: string;
  readonly clientId: string;
  /** Lifetime in seconds. */
  readonly ttl: number;
  readonly claims?: ClaimsHook | undefined;
  /** Verified-token cache size; 0 turns it off. */
  readonly cacheSize?: number;
  readonly clock?: () => number;
}

/** Signs and verifies access tokens. */
export class AccessTokens {
  readonly ttl: number;
  #sign: (payload: Readonly<Record<string, unknown>>) => string;
  #verify: ReturnType<typeof createVerifier>;
  readonly #fallbacks: ReturnType<typeof createVerifier>[];
  readonly #options: AccessTokenOptions;
  readonly #now: () => number;

  constructor(options: AccessTokenOptions) {
    this.#options = options;
    this.ttl = options.ttl;
    this.#now = options.clock ?? Date.now;
    const cacheSize = options.cacheSize ?? 10_000;
    this.#sign = createSigner({ key: options.signingKeys, typ: 'at+jwt' });
    this.#verify = this.#verifier(options.signingKeys, cacheSize);
    this.#fallbacks = (options.previousKeys ?? []).map((key) => this.#verifier(key, Math.ceil(cacheSize / 10)));
  }

  /**
   * Signs and verifies with `keys` from now on (a key rotation picked up while running). The
   * verified-token cache starts empty: a token is re-verified once against the new set.
   */
  useKeys(keys: KeySet): void {
    this.#sign = createSigner({ key: keys, typ: 'at+jwt' });
    this.#verify = this.#verifier(keys, this.#options.cacheSize ?? 10_000);
  }

  #verifier(keys: KeySet | JwtKey, cacheSize: number): ReturnType<typeof createVerifier> {
    return createVerifier({
      algorithms: [this.#options.algorithm],
      issuer: this.#options.issuer,
      audience: this.#options.audience,
      typ: 'at+jwt',
      // Instances of one cluster share a synchronised clock; a few seconds cover their skew.
      leeway: 5,
      requiredClaims: ['sub', 'exp', 'iat', 'sid', 'jti'],
      clock: this.#now,
      keys,
      cache: cacheSize > 0 ? { max: cacheSize } : false,
    });
  }

  /** Issues a token for `user` in session `sid`, which started at `authTime` (seconds). */
  issue(
    user: { readonly id: string; readonly username: string; readonly credentialVersion: number },
    sid: string,
    authTime: number,
  ): { token: string; expiresIn: number } {
    const iat = Math.floor(this.#now() / 1000);
    const custom = this.#options.claims?.({ id: user.id, username: user.username }) ?? {};
    const extra: Record<string, unknown> = {};
    for (const name of Object.keys(custom)) {
      if (!RESERVED.has(name)) extra[name] = custom[name];
    }
    const token = this.#sign({
      ...extra,
      iss: this.#options.issuer,
      sub: user.id,
      aud: this.#options.audience,
      client_id: this.#options.clientId,
      iat,
      exp: iat + this.ttl,
      jti: randomId(),
      sid,
      preferred_username: user.username,
      ver: user.credentialVersion,
      auth_time: authTime,
    });
    return { token, expiresIn: this.ttl };
  }

  /** Verifies signature and claims; throws a 401 `invalid_token` AuthError otherwise. No I/O. */
  verify(token: string): AccessClaims {
    try {
      return this.#check(this.#verify(token));
    } catch (error) {
      if (error instanceof JwsSignatureInvalidError || (error instanceof JwtError && error.code === 'ERR_JWKS_KEY_NOT_FOUND')) {
        for (const fallback of this.#fallbacks) {
          try {
            return this.#check(fallback(token));
          } catch {
            // try the next retired key
          }
        }
      }
      throw invalidToken(describe(error));
    }
  }

  #check(payload: JwtPayload): AccessClaims {
    if (typeof payload.sub !== 'string' || typeof payload['sid'] !== 'string' || typeof payload['ver'] !== 'number') {
      throw invalidToken();
    }
    return payload as AccessClaims;
  }
}

function describe(error: unknown): TokenProblem {
  return error instanceof JwtError && error.code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid';
}
