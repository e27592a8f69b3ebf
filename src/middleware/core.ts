/**
 * What the three framework guards share: option checking, and turning an `Authorization` header
 * into a user, an anonymous visitor, or a rejection. It knows only the contract and hush-auth/jwt — never
 * the server's core — so a resource service needs nothing but the access secret or the JWKS URL.
 */
import {
  ALGORITHM_NAMES,
  createRemoteVerifier,
  createVerifier,
  importSecret,
  JwtError,
  type Algorithm,
  type JwtKey,
  type JwtPayload,
} from '../jwt/index.js';
import { bearerCandidate, isB64Token } from './bearer.js';
import {
  EXPIRED_TOKEN,
  GuardRejection,
  INVALID_TOKEN,
  KEYS_UNAVAILABLE,
  MISSING_TOKEN,
  REVOKED_TOKEN,
} from './rejections.js';

export { GuardRejection } from './rejections.js';
export type { GuardErrorCode } from './rejections.js';

/** The claims of a hush access token (CONTRACT.md, Tokens), as a guard hands them over: verified and frozen. */
export interface AccessClaims extends JwtPayload {
  readonly iss: string;
  /** The user id. */
  readonly sub: string;
  readonly aud: string | string[];
  readonly client_id: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  /** The session id. */
  readonly sid: string;
  readonly preferred_username: string;
}

/** The user a guard puts on the request. */
export interface HushUser {
  /** The user id (`sub`). */
  readonly id: string;
  /** The username (`preferred_username`). */
  readonly username: string;
  /** Every claim of the verified token, custom claims (roles, say) included. */
  readonly claims: Readonly<AccessClaims>;
}

/** A source of revocations, consulted for every token that verified (cache hits included). */
export interface RevocationCheck {
  /** True when the token must be refused although its signature and claims are good. Must not block. */
  isRevoked(claims: Readonly<AccessClaims>): boolean;
}

/** Options of every hush guard (`hush-auth/fastify`, `hush-auth/express`, `hush-auth/hono`). */
export interface HushGuardOptions {
  /**
   * The access-token secret the server signs with (`HUSH_SECRET`, UTF-8, at least 32 bytes), or a list
   * of them: the current one first, then retired ones still accepted (`HUSH_PREVIOUS_SECRETS`).
   * Give exactly one of `secret` and `jwksUrl`.
   */
  secret?: string | readonly string[];
  /**
   * The server's `/.well-known/jwks.json` (https, or http on loopback only), for `HUSH_JWT_ALG=EdDSA`
   * or `ES256`. Keys are fetched on first use, cached for ten minutes, and fetched again when a token
   * names an unknown `kid` (at most every 30 s).
   */
  jwksUrl?: string | URL;
  /** Accepted `alg`s: default `['HS256']` with `secret`, `['EdDSA', 'ES256']` with `jwksUrl`. */
  algorithms?: readonly Algorithm[];
  /** Expected `iss` (`HUSH_ISSUER`); default `'hush'`. */
  issuer?: string;
  /** Expected `aud`, or several accepted ones (`HUSH_AUDIENCE`); default `'hush'`. */
  audience?: string | readonly string[];
  /**
   * Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds, 0 to 60; default 1, so that a service
   * whose clock lags the server's by a fraction of a second does not refuse tokens issued "in the future".
   */
  leeway?: number;
  /**
   * The verified-token cache (keyed on the whole token; `exp` and `revocations` are still checked on
   * every hit): `true` (default, 10 000 tokens), `false`, or `{ max }`.
   */
  cache?: boolean | { max?: number };
  /**
   * Refuses revoked tokens: `await followRevocations(…)` from `hush-auth/revocations` follows the server's
   * feed. Without it a token is good until it expires.
   */
  revocations?: RevocationCheck;
  /**
   * When true, a request without a Bearer token goes on anonymously (the user is `null`). A token that
   * was sent and is bad is refused either way.
   */
  optional?: boolean;
}

/** What a guard decided: a user, an anonymous visitor (only with `optional`), or a refusal to send. */
export type GuardOutcome = HushUser | null | GuardRejection;

/** A compiled guard: `authenticate` is synchronous with `secret`, asynchronous with `jwksUrl`. */
export interface Authenticator {
  /**
   * Decides a request from its `Authorization` header. Throws (or rejects) only for a programming error —
   * a `revocations` hook that throws, say — never for a bad token.
   */
  authenticate(authorization: string | undefined): GuardOutcome | Promise<GuardOutcome>;
}

/** A guard was given invalid options. Thrown when the guard is created, never while serving. */
export class HushGuardOptionsError extends Error {
  /** Stable code: `ERR_HUSH_GUARD_OPTIONS`. */
  readonly code = 'ERR_HUSH_GUARD_OPTIONS';

  /** @param message says which option is wrong and what is expected; never contains a secret */
  constructor(message: string) {
    super(`hush guard: ${message}`);
    this.name = 'HushGuardOptionsError';
  }
}

const OPTION_NAMES = new Set(['secret', 'jwksUrl', 'algorithms', 'issuer', 'audience', 'leeway', 'cache', 'revocations', 'optional']);
const HMAC_ALGORITHMS: ReadonlySet<string> = new Set(['HS256', 'HS384', 'HS512']);
const DEFAULT_CACHE_SIZE = 10_000;
/** Seconds. hush's `iat` is whole seconds, so a lag of even a millisecond would otherwise refuse fresh tokens. */
const DEFAULT_LEEWAY = 1;
/** Claims hush always issues; a token without them is not a hush access token. */
const REQUIRED_CLAIMS = ['sub', 'exp', 'iat', 'jti', 'sid', 'client_id', 'preferred_username'] as const;

function fail(message: string): never {
  throw new HushGuardOptionsError(message);
}

function checkAlgorithms(value: unknown, hmac: boolean): readonly Algorithm[] {
  if (value === undefined) return hmac ? ['HS256'] : ['EdDSA', 'ES256'];
  if (!Array.isArray(value) || value.length === 0) fail('algorithms must be a non-empty array');
  for (const alg of value as unknown[]) {
    if (typeof alg !== 'string' || !(ALGORITHM_NAMES as readonly string[]).includes(alg)) {
      fail('algorithms lists an unknown algorithm');
    }
    // Binding the algorithm family to the kind of key rules out RS→HS confusion before any token is seen.
    if (HMAC_ALGORITHMS.has(alg) !== hmac) {
      fail(hmac ? `algorithm ${alg} needs jwksUrl; with secret only HS256/HS384/HS512` : `algorithm ${alg} needs secret; with jwksUrl only asymmetric algorithms`);
    }
  }
  return [...(value as Algorithm[])];
}

function checkSecrets(value: unknown, algorithms: readonly Algorithm[]): JwtKey[] {
  const secrets: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : fail('secret must be a string or an array of strings');
  if (secrets.length === 0) fail('secret must not be an empty array');
  const keys: JwtKey[] = [];
  for (const [index, secret] of secrets.entries()) {
    const which = secrets.length === 1 ? 'secret' : `secret[${index}]`;
    if (typeof secret !== 'string') fail(`${which} must be a string`);
    for (const alg of algorithms) {
      try {
        keys.push(importSecret(secret, alg as 'HS256' | 'HS384' | 'HS512'));
      } catch {
        const bytes = alg === 'HS256' ? 32 : alg === 'HS384' ? 48 : 64;
        fail(`${which} is too short for ${alg}: it needs at least ${bytes} bytes of UTF-8`);
      }
    }
  }
  return keys;
}

function checkAudience(value: unknown): string | readonly string[] {
  if (value === undefined) return 'hush';
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string' && a.length > 0)) return [...(value as string[])];
  return fail('audience must be a non-empty string or a non-empty array of them');
}

function checkCache(value: unknown): false | { max: number } {
  if (value === undefined || value === true) return { max: DEFAULT_CACHE_SIZE };
  if (value === false) return false;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const max = (value as { max?: unknown }).max ?? DEFAULT_CACHE_SIZE;
    if (typeof max === 'number' && Number.isInteger(max) && max >= 1 && max <= 1_000_000) return { max };
  }
  return fail('cache must be true, false or { max } with max an integer from 1 to 1000000');
}

/** The options, checked and completed with their defaults. */
export interface ResolvedGuardOptions {
  readonly keys: JwtKey[] | undefined;
  readonly jwksUrl: string | URL | undefined;
  readonly algorithms: readonly Algorithm[];
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly leeway: number;
  readonly cache: false | { max: number };
  readonly revocations: RevocationCheck | undefined;
  readonly optional: boolean;
}

/**
 * Checks guard options once and fills in the defaults.
 * @throws HushGuardOptionsError naming the first bad option
 */
export function resolveGuardOptions(options: HushGuardOptions): ResolvedGuardOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('options must be an object');
  // A misspelt option (`audiance`) must not silently turn a check off.
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) fail(`unknown option "${name}"`);
  }
  const { secret, jwksUrl } = options;
  if (secret !== undefined && jwksUrl !== undefined) fail('give either secret or jwksUrl, not both');
  if (secret === undefined && jwksUrl === undefined) {
    if (Object.hasOwn(options, 'secret')) {
      fail(
        'secret is undefined (is HUSH_SECRET set in this service\'s environment?). Unless HUSH_SECRET is set for it, ' +
          'the hush server generates its secret on first start and keeps it in $HUSH_DATA_DIR/secrets.json ' +
          '(./data/secrets.json by default): give this service that file\'s "secret" value as HUSH_SECRET',
      );
    }
    if (Object.hasOwn(options, 'jwksUrl')) fail('jwksUrl is undefined');
    fail(
      'give secret (HS256: the server\'s HUSH_SECRET, or the "secret" value of its $HUSH_DATA_DIR/secrets.json) ' +
        'or jwksUrl (EdDSA/ES256: the server\'s /.well-known/jwks.json)',
    );
  }
  if (jwksUrl !== undefined && typeof jwksUrl !== 'string' && !(jwksUrl instanceof URL)) fail('jwksUrl must be a string or a URL');
  const algorithms = checkAlgorithms(options.algorithms, secret !== undefined);
  const keys = secret !== undefined ? checkSecrets(secret, algorithms) : undefined;
  const issuer = options.issuer ?? 'hush';
  if (typeof issuer !== 'string' || issuer.length === 0) fail('issuer must be a non-empty string');
  const audience = checkAudience(options.audience);
  const leeway = options.leeway ?? DEFAULT_LEEWAY;
  if (typeof leeway !== 'number' || !Number.isFinite(leeway) || leeway < 0 || leeway > 60) fail('leeway must be a number of seconds from 0 to 60');
  const cache = checkCache(options.cache);
  const { revocations } = options;
  if (revocations !== undefined && (typeof revocations !== 'object' || revocations === null || typeof revocations.isRevoked !== 'function')) {
    fail('revocations must be an object with an isRevoked(claims) method');
  }
  const optional = options.optional ?? false;
  if (typeof optional !== 'boolean') fail('optional must be a boolean');
  return { keys, jwksUrl, algorithms, issuer, audience, leeway, cache, revocations, optional };
}

/** Maps a verification failure to its answer; anything that is not a JwtError is a bug and propagates. */
function rejectionFor(error: unknown): GuardRejection {
  if (!(error instanceof JwtError)) throw error;
  if (error.code === 'ERR_JWT_EXPIRED') return EXPIRED_TOKEN;
  if (error.code === 'ERR_JWKS_FETCH_FAILED') return KEYS_UNAVAILABLE;
  return INVALID_TOKEN;
}

/**
 * Builds the guard's decision function from options (checked here, once).
 * @throws HushGuardOptionsError for invalid options
 */
export function createAuthenticator(options: HushGuardOptions): Authenticator {
  const resolved = resolveGuardOptions(options);
  const { revocations, optional } = resolved;
  const verifierOptions = {
    algorithms: resolved.algorithms,
    issuer: resolved.issuer,
    audience: resolved.audience,
    typ: 'at+jwt',
    leeway: resolved.leeway,
    requiredClaims: REQUIRED_CLAIMS,
    cache: resolved.cache,
  };
  const anonymous = optional ? null : MISSING_TOKEN;

  function accept(payload: JwtPayload): HushUser | GuardRejection {
    const claims = payload as AccessClaims;
    // The verifier type-checks the registered claims; these are hush's own.
    if (
      typeof claims.sub !== 'string' || claims.sub.length === 0 ||
      typeof claims.preferred_username !== 'string' ||
      typeof claims.sid !== 'string' ||
      typeof claims.client_id !== 'string'
    ) {
      return INVALID_TOKEN;
    }
    if (revocations !== undefined && revocations.isRevoked(claims)) return REVOKED_TOKEN;
    return { id: claims.sub, username: claims.preferred_username, claims };
  }

  try {
    if (resolved.keys !== undefined) {
      const verify = createVerifier({ ...verifierOptions, keys: resolved.keys });
      return {
        authenticate(authorization) {
          const token = bearerCandidate(authorization);
          if (token === undefined) return anonymous;
          let payload: JwtPayload;
          try {
            payload = verify(token);
          } catch (error) {
            // Only now is it worth scanning the characters: `Bearer a b` was no token at all.
            return isB64Token(token) ? rejectionFor(error) : anonymous;
          }
          return accept(payload);
        },
      };
    }
    const verify = createRemoteVerifier({ ...verifierOptions, jwks: resolved.jwksUrl! });
    return {
      authenticate(authorization) {
        const token = bearerCandidate(authorization);
        if (token === undefined) return anonymous;
        return verify(token).then(accept, (error: unknown) => (isB64Token(token) ? rejectionFor(error) : anonymous));
      },
    };
  } catch (error) {
    // hush-auth/jwt's option errors (a jwksUrl that is not https, say) name the option and hold no secret.
    if (error instanceof JwtError) fail(error.message);
    throw error;
  }
}

/** Whether a guard outcome is still pending (JWKS mode). */
export function isPending(outcome: GuardOutcome | Promise<GuardOutcome>): outcome is Promise<GuardOutcome> {
  return outcome instanceof Promise;
}
