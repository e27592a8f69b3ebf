import { compileClaims } from './claims.js';
import type { ClaimOptions } from './claims.js';
import { checkSignature, createCompactCore, locateDots, rejectUnknownOptions, throwTyp, TYP_OK } from './core.js';
import type { KeysInput } from './core.js';
import { JwtMalformedError, JwtOptionsError } from './errors.js';
import { deepFreeze, parseJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { LruCache } from './lru.js';
import type { Algorithm, JwtPayload } from './types.js';

/** Options of {@link createVerifier}. */
export interface VerifierOptions extends ClaimOptions {
  keys: KeysInput;
  /** Required, non-empty; each must be served by some key (else throws at creation). */
  algorithms: readonly Algorithm[];
  issuer?: string;
  audience?: string | readonly string[];
  subject?: string;
  /** Compared per RFC 8725/9068: case-insensitive, optional `application/` prefix. */
  typ?: string;
  /** Seconds, 0..60, default 0. */
  leeway?: number;
  /** Seconds; needs `iat`. */
  maxTokenAge?: number;
  requiredClaims?: readonly string[];
  /** Default 8192. */
  maxTokenLength?: number;
  /** Verified-token LRU keyed on the token string; default false. */
  cache?: false | { max?: number };
  /** Milliseconds since the epoch; default `Date.now`. */
  clock?: () => number;
  /**
   * Accept ECDSA signatures whose `s` is above n/2. Default false: every ECDSA signature `(r, s)` has a
   * twin `(r, n − s)`, so hush accepts only the low form and a token has exactly one valid signature
   * (hush's signer always emits it). Set it for tokens from signers that do not normalise `s` (jose,
   * node:crypto, OpenSSL: half of their signatures are high).
   */
  allowHighS?: boolean;
}

/** A verifier function plus a way to empty its verified-token cache. */
export type Verifier = ((token: string) => JwtPayload) & { clearCache(): void };

/**
 * One verified token in the cache, with the window in which it stays valid. The cache is keyed on
 * the token's signature segment — hashing 43 characters instead of the whole token is most of a
 * hit's cost — and a hit counts only when the whole token is the same string.
 */
export interface CacheEntry {
  readonly token: string;
  readonly payload: JwtPayload;
  readonly from: number;
  readonly until: number;
}

export const VERIFIER_OPTION_NAMES = [
  'keys', 'algorithms', 'issuer', 'audience', 'subject', 'typ', 'leeway', 'maxTokenAge',
  'requiredClaims', 'maxTokenLength', 'cache', 'clock', 'allowHighS',
] as const;

/** Validates `cache` and returns the LRU, or undefined when caching is off. */
export function createTokenCache(cache: unknown): LruCache<CacheEntry> | undefined {
  if (cache === undefined || cache === false) return undefined;
  if (typeof cache !== 'object' || cache === null) throw new JwtOptionsError('cache must be false or { max }');
  const max = (cache as { max?: unknown }).max ?? 1000;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 1_000_000) {
    throw new JwtOptionsError('cache.max must be an integer from 1 to 1000000');
  }
  return new LruCache<CacheEntry>(max);
}

/** Validates `clock`. */
export function clockOption(clock: unknown): () => number {
  if (clock === undefined) return Date.now;
  if (typeof clock !== 'function') throw new JwtOptionsError('clock must be a function returning milliseconds');
  return clock as () => number;
}

/** Parses the payload bytes of a token whose signature verified: a JSON object, or malformed. */
export function decodePayload(bytes: Buffer): JsonObject {
  const payload = parseJsonObject(bytes);
  if (payload === undefined) throw new JwtMalformedError('payload is not a UTF-8 JSON object');
  return payload;
}

/**
 * Creates a JWT verifier. Every option is checked here, once; the returned function then runs, in this
 * order: length cap, cache lookup (re-checking `exp`/`nbf`/age against the clock), segment split, header
 * (memoised per distinct header: strict base64url/UTF-8/JSON, no duplicate members, `crit`, allowed
 * `alg`, exact `kid` lookup), canonical payload and signature encoding, signature, `typ`, payload JSON,
 * claims. It returns the deep-frozen payload — on a cache hit, the very same object as before.
 * @throws JwtOptionsError (at creation) for invalid options
 */
export function createVerifier(options: VerifierOptions): Verifier {
  rejectUnknownOptions(options, VERIFIER_OPTION_NAMES, 'createVerifier');
  const core = createCompactCore(options);
  const claims = compileClaims(options);
  const clock = clockOption(options.clock);
  const cache = createTokenCache(options.cache);
  const maxTokenLength = core.maxTokenLength;
  const { lookup, parse, remember, allowHighS } = core;
  const check = claims.check;

  function verifyUncached(token: string, now: number): JsonObject {
    // A clock returning NaN would make every time comparison false, so nothing would ever expire.
    if (!Number.isFinite(now)) throw new JwtOptionsError('clock must return a finite number of milliseconds');
    const dots = locateDots(token, maxTokenLength);
    const d1 = Math.floor(dots / 0x200000);
    const d2 = dots - d1 * 0x200000;
    const headerSegment = token.slice(0, d1);
    let resolved = lookup(headerSegment);
    const fresh = resolved === undefined;
    if (resolved === undefined) resolved = parse(headerSegment);
    const bytes = checkSignature(token, d1, d2, resolved.primitives, allowHighS);
    if (resolved.typ !== TYP_OK) throwTyp(resolved.typ);
    const payload = decodePayload(bytes);
    if (fresh) remember(headerSegment, resolved);
    check(payload, now);
    return payload;
  }

  const verify = cache === undefined
    ? function verify(token: string): JwtPayload {
        return deepFreeze(verifyUncached(token, clock())) as JwtPayload;
      }
    : function verifyCached(token: string): JwtPayload {
        const now = clock();
        let key: string | undefined;
        if (typeof token === 'string' && token.length <= maxTokenLength) {
          key = token.slice(token.lastIndexOf('.') + 1);
          const hit = cache.get(key);
          if (hit !== undefined && hit.token === token) {
            if (now >= hit.from && now < hit.until) return hit.payload;
            cache.delete(key);
          }
        }
        const payload = deepFreeze(verifyUncached(token, now)) as JwtPayload;
        const { from, until } = claims.window(payload);
        // Only a verified token is stored, so no forged token can displace a real one.
        if (key !== undefined) cache.set(key, { token, payload, from, until });
        return payload;
      };

  return Object.assign(verify, {
    clearCache(): void {
      cache?.clear();
    },
  });
}
