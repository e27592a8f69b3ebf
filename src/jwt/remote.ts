import { algorithmSpec } from './algorithms.js';
import { compileClaims } from './claims.js';
import {
  allowedAlgorithms,
  allowHighSOption,
  checkSignature,
  expectedTyp,
  locateDots,
  maxLength,
  rejectUnknownOptions,
  throwTyp,
  typVerdict,
  TYP_OK,
} from './core.js';
import { JwksFetchError, JwksKeyNotFoundError, JwsAlgorithmNotAllowedError, JwtKeyError, JwtOptionsError } from './errors.js';
import { parseHeaderSegment } from './header.js';
import type { ParsedHeader } from './header.js';
import { deepFreeze } from './json.js';
import { importJwk } from './keys.js';
import { primitiveFor } from './primitives.js';
import type { Algorithm, JwtKey, JwtPayload } from './types.js';
import { clockOption, createTokenCache, decodePayload, VERIFIER_OPTION_NAMES } from './verifier.js';
import type { VerifierOptions } from './verifier.js';

/** Remote JWKS for resource services. */
export interface RemoteJwks {
  /** The key for a token's `kid` and `alg` (exact `kid` match; without `kid`, the first key fitting `alg`). */
  getKey(kid: string | undefined, alg: Algorithm): Promise<JwtKey>;
  /** Fetches the document again now. */
  reload(): Promise<void>;
  /**
   * Bumped whenever a fetch returns a different key set. Verifiers watch it to empty their token
   * cache, so a key removed from the JWKS stops validating cached tokens too.
   */
  readonly generation?: number;
}

/** Options of {@link createRemoteJwks}. */
export interface RemoteJwksOptions {
  /** How long (ms) a fetched document is used before it is fetched again; default 600 000. */
  cacheMaxAge?: number;
  /** Least time (ms) between two fetches caused by unknown `kid`s or failures; default 30 000. */
  cooldown?: number;
  /** Fetch timeout (ms); default 5000. */
  timeout?: number;
}

/** Largest JWKS document accepted. */
const MAX_JWKS_BYTES = 512 * 1024;

function positiveMs(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new JwtOptionsError(`${name} must be a number of milliseconds`);
  return value;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}

interface Entry {
  readonly jwk: JsonWebKey & { kid?: unknown };
  readonly imported: Map<Algorithm, JwtKey | null>;
}

/**
 * A JWKS fetched from `url` (https, or http on loopback only). The document is cached for
 * `cacheMaxAge`; a token with an unknown `kid` triggers a refetch at most once per `cooldown`; a fetch
 * is aborted after `timeout` and never follows redirects. Only the configured URL is ever fetched:
 * token headers (`jku`, `x5u`, `jwk`, `x5c`) play no part. Keys without `alg` are bound to the token's
 * `alg` only when their type and curve fit it; keys with `use` other than `sig`, or unusable keys (RSA
 * under 2048 bits, say), are skipped. When a refetch fails, the previous keys stay in use.
 * @throws JwtOptionsError for a bad URL or option
 */
export function createRemoteJwks(url: string | URL, options?: RemoteJwksOptions): RemoteJwks {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new JwtOptionsError('jwks URL is invalid');
  }
  if (target.protocol !== 'https:' && !(target.protocol === 'http:' && isLoopback(target.hostname))) {
    throw new JwtOptionsError('jwks URL must use https (http only on loopback)');
  }
  if (options !== undefined) rejectUnknownOptions(options, ['cacheMaxAge', 'cooldown', 'timeout'], 'createRemoteJwks');
  const cacheMaxAge = positiveMs(options?.cacheMaxAge, 600_000, 'cacheMaxAge');
  const cooldown = positiveMs(options?.cooldown, 30_000, 'cooldown');
  const timeout = positiveMs(options?.timeout, 5000, 'timeout');

  let entries: Entry[] | undefined;
  let documentText = '';
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let inflight: Promise<void> | undefined;
  let generation = 0;

  async function fetchDocument(): Promise<void> {
    attemptedAt = Date.now();
    let text: string;
    try {
      const response = await fetch(target, {
        signal: AbortSignal.timeout(timeout),
        redirect: 'error',
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new JwksFetchError(`JWKS endpoint answered ${response.status}`);
      }
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > MAX_JWKS_BYTES) {
        await response.body?.cancel();
        throw new JwksFetchError('JWKS document too large');
      }
      text = await response.text();
    } catch (error) {
      if (error instanceof JwksFetchError) throw error;
      throw new JwksFetchError('JWKS fetch failed or timed out');
    }
    if (text.length > MAX_JWKS_BYTES) throw new JwksFetchError('JWKS document too large');
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new JwksFetchError('JWKS document is not JSON');
    }
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (typeof document !== 'object' || document === null || !Array.isArray(keys)) {
      throw new JwksFetchError('JWKS document has no keys array');
    }
    const next: Entry[] = [];
    for (const jwk of keys as unknown[]) {
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) continue;
      const candidate = jwk as JsonWebKey & { kid?: unknown };
      if (candidate.use !== undefined && candidate.use !== 'sig') continue;
      if (candidate.kty === 'oct' || typeof candidate.d === 'string') continue; // never secrets or private keys
      next.push({ jwk: candidate, imported: new Map() });
    }
    fetchedAt = Date.now();
    if (text !== documentText) {
      documentText = text;
      entries = next;
      generation++;
    }
  }

  function refresh(): Promise<void> {
    inflight ??= fetchDocument().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function keyOf(entry: Entry, alg: Algorithm): JwtKey | undefined {
    let key = entry.imported.get(alg);
    if (key === undefined) {
      try {
        const kid = typeof entry.jwk.kid === 'string' && entry.jwk.kid.length > 0 ? entry.jwk.kid : undefined;
        key = importJwk(entry.jwk, kid === undefined ? { alg } : { alg, kid });
      } catch (error) {
        if (!(error instanceof JwtKeyError)) throw error;
        key = null;
      }
      entry.imported.set(alg, key);
    }
    return key ?? undefined;
  }

  function find(kid: string | undefined, alg: Algorithm): JwtKey | undefined {
    if (entries === undefined) return undefined;
    for (const entry of entries) {
      if (kid !== undefined && entry.jwk.kid !== kid) continue;
      if (entry.jwk.alg !== undefined && entry.jwk.alg !== alg) continue;
      const key = keyOf(entry, alg);
      if (key !== undefined) return key;
      if (kid !== undefined) return undefined;
    }
    return undefined;
  }

  return {
    get generation() {
      return generation;
    },
    async getKey(kid, alg) {
      if (algorithmSpec(alg) === undefined) throw new JwsAlgorithmNotAllowedError();
      const now = Date.now();
      if (entries === undefined || now - fetchedAt > cacheMaxAge) {
        if (entries === undefined || now - attemptedAt >= cooldown) {
          try {
            await refresh();
          } catch (error) {
            if (entries === undefined) throw error;
          }
        }
      }
      const key = find(kid, alg);
      if (key !== undefined) return key;
      if (Date.now() - attemptedAt >= cooldown) {
        await refresh();
        const again = find(kid, alg);
        if (again !== undefined) return again;
      }
      throw new JwksKeyNotFoundError();
    },
    reload: refresh,
  };
}

/** Options of {@link createRemoteVerifier}. */
export type RemoteVerifierOptions = Omit<VerifierOptions, 'keys'> & { jwks: RemoteJwks | string | URL };

/**
 * A verifier for resource services whose keys come from a JWKS. Same checks and options as
 * {@link createVerifier}; the verified-token cache is emptied whenever the JWKS content changes.
 * @throws JwtOptionsError (at creation) for invalid options
 */
export function createRemoteVerifier(options: RemoteVerifierOptions): ((token: string) => Promise<JwtPayload>) & { clearCache(): void } {
  rejectUnknownOptions(options, [...VERIFIER_OPTION_NAMES.filter((n) => n !== 'keys'), 'jwks'], 'createRemoteVerifier');
  const jwks = typeof options.jwks === 'string' || options.jwks instanceof URL ? createRemoteJwks(options.jwks) : options.jwks;
  if (typeof jwks !== 'object' || jwks === null || typeof jwks.getKey !== 'function') {
    throw new JwtOptionsError('jwks must be a RemoteJwks or a URL');
  }
  const allowed = allowedAlgorithms(options.algorithms);
  const maxTokenLength = maxLength(options.maxTokenLength);
  const allowHighS = allowHighSOption(options.allowHighS);
  const typ = expectedTyp(options.typ);
  const claims = compileClaims(options);
  const clock = clockOption(options.clock);
  const cache = createTokenCache(options.cache);
  const memo = new Map<string, ParsedHeader>();
  let cachedGeneration = jwks.generation;

  async function verify(token: string): Promise<JwtPayload> {
    const now = clock();
    if (!Number.isFinite(now)) throw new JwtOptionsError('clock must return a finite number of milliseconds');
    if (cache !== undefined) {
      if (jwks.generation !== cachedGeneration) {
        cache.clear();
        cachedGeneration = jwks.generation;
      }
      if (typeof token === 'string' && token.length <= maxTokenLength) {
        const signature = token.slice(token.lastIndexOf('.') + 1);
        const hit = cache.get(signature);
        if (hit !== undefined && hit.token === token) {
          if (now >= hit.from && now < hit.until) return hit.payload;
          cache.delete(signature);
        }
      }
    }
    const dots = locateDots(token, maxTokenLength);
    const d1 = Math.floor(dots / 0x200000);
    const d2 = dots - d1 * 0x200000;
    const segment = token.slice(0, d1);
    const parsed = memo.get(segment) ?? parseHeaderSegment(segment);
    const alg = parsed.spec.alg;
    if (!allowed.has(alg)) throw new JwsAlgorithmNotAllowedError();
    const key = await jwks.getKey(parsed.kid, alg);
    if (key.alg !== alg || (parsed.kid !== undefined && key.kid !== parsed.kid)) throw new JwksKeyNotFoundError();
    const bytes = checkSignature(token, d1, d2, [primitiveFor(key)], allowHighS);
    const verdict = typVerdict(typ, parsed.typ);
    if (verdict !== TYP_OK) throwTyp(verdict);
    const payload = decodePayload(bytes);
    if (memo.size >= 64) memo.clear();
    memo.set(segment, parsed);
    claims.check(payload, now);
    const frozen = deepFreeze(payload) as JwtPayload;
    // Nothing is awaited after getKey, so the key belongs to the current JWKS generation.
    if (cache !== undefined) {
      if (jwks.generation !== cachedGeneration) {
        cache.clear();
        cachedGeneration = jwks.generation;
      }
      const { from, until } = claims.window(frozen);
      cache.set(token.slice(token.lastIndexOf('.') + 1), { token, payload: frozen, from, until });
    }
    return frozen;
  }

  return Object.assign(verify, {
    clearCache(): void {
      cache?.clear();
    },
  });
}
