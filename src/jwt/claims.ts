import { JwtClaimInvalidError, JwtExpiredError, JwtNotYetValidError, JwtOptionsError } from './errors.js';
import type { JsonObject } from './json.js';

/** The claim rules of a verifier, validated once by {@link compileClaims}. */
export interface ClaimOptions {
  issuer?: string;
  audience?: string | readonly string[];
  subject?: string;
  leeway?: number;
  maxTokenAge?: number;
  requiredClaims?: readonly string[];
}

/** A compiled claim check: throws the first failure, given the payload and the time in ms. */
export type ClaimCheck = (payload: JsonObject, nowMs: number) => void;

/** Validated claim settings plus the compiled check. */
export interface CompiledClaims {
  readonly check: ClaimCheck;
  /**
   * The time window (ms) in which a payload that passed `check` keeps passing it: a cached token is
   * served only while `from <= now < until`, so every hit re-checks `exp`, `nbf` and `maxTokenAge`.
   */
  window(payload: JsonObject): { from: number; until: number };
}

const hasOwn = Object.hasOwn;

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Validates claim options once and returns a check specialised to them. Registered claims are
 * type-checked whenever present (`exp`/`nbf`/`iat` finite numbers — so `1e999` and `"9999999999"` fail —
 * `iss`/`sub`/`jti` strings, `aud` a string or an array of strings); presence uses `Object.hasOwn`.
 * @throws JwtOptionsError for an invalid option
 */
export function compileClaims(options: ClaimOptions): CompiledClaims {
  const { issuer, subject, maxTokenAge } = options;
  const leeway = options.leeway ?? 0;
  if (!isFiniteNumber(leeway) || leeway < 0 || leeway > 60) throw new JwtOptionsError('leeway must be a number of seconds from 0 to 60');
  if (issuer !== undefined && !nonEmptyString(issuer)) throw new JwtOptionsError('issuer must be a non-empty string');
  if (subject !== undefined && !nonEmptyString(subject)) throw new JwtOptionsError('subject must be a non-empty string');
  if (maxTokenAge !== undefined && (!isFiniteNumber(maxTokenAge) || maxTokenAge <= 0)) {
    throw new JwtOptionsError('maxTokenAge must be a positive number of seconds');
  }
  let audiences: readonly string[] | undefined;
  if (options.audience !== undefined) {
    audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
    if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every(nonEmptyString)) {
      throw new JwtOptionsError('audience must be a non-empty string or a non-empty array of them');
    }
  }
  const required = options.requiredClaims ?? [];
  if (!Array.isArray(required) || !required.every(nonEmptyString)) throw new JwtOptionsError('requiredClaims must be an array of claim names');
  const requiredList = Object.freeze([...new Set(required)]);
  const singleAudience = audiences?.length === 1 ? audiences[0] : undefined;
  const audienceSet = audiences !== undefined && audiences.length > 1 ? new Set(audiences) : undefined;

  function audienceMatches(aud: string): boolean {
    return aud === singleAudience || (audienceSet !== undefined && audienceSet.has(aud));
  }

  function check(p: JsonObject, nowMs: number): void {
    const now = nowMs / 1000;
    if (hasOwn(p, 'exp')) {
      const exp = p['exp'];
      if (!isFiniteNumber(exp)) throw new JwtClaimInvalidError('exp', 'invalid');
      if (now >= exp + leeway) throw new JwtExpiredError();
    }
    if (hasOwn(p, 'nbf')) {
      const nbf = p['nbf'];
      if (!isFiniteNumber(nbf)) throw new JwtClaimInvalidError('nbf', 'invalid');
      if (now + leeway < nbf) throw new JwtNotYetValidError();
    }
    if (hasOwn(p, 'iat')) {
      const iat = p['iat'];
      if (!isFiniteNumber(iat)) throw new JwtClaimInvalidError('iat', 'invalid');
      // A token issued in the future (beyond the leeway) was minted by a broken or hostile clock.
      if (iat > now + leeway) throw new JwtClaimInvalidError('iat', 'invalid');
      if (maxTokenAge !== undefined && now - iat > maxTokenAge + leeway) throw new JwtClaimInvalidError('iat', 'too_old');
    } else if (maxTokenAge !== undefined) {
      throw new JwtClaimInvalidError('iat', 'missing');
    }
    if (hasOwn(p, 'iss')) {
      const iss = p['iss'];
      if (typeof iss !== 'string') throw new JwtClaimInvalidError('iss', 'invalid');
      if (issuer !== undefined && iss !== issuer) throw new JwtClaimInvalidError('iss', 'mismatch');
    } else if (issuer !== undefined) {
      throw new JwtClaimInvalidError('iss', 'missing');
    }
    if (hasOwn(p, 'sub')) {
      const sub = p['sub'];
      if (typeof sub !== 'string') throw new JwtClaimInvalidError('sub', 'invalid');
      if (subject !== undefined && sub !== subject) throw new JwtClaimInvalidError('sub', 'mismatch');
    } else if (subject !== undefined) {
      throw new JwtClaimInvalidError('sub', 'missing');
    }
    if (hasOwn(p, 'aud')) {
      const aud = p['aud'];
      if (typeof aud === 'string') {
        if (audiences !== undefined && !audienceMatches(aud)) throw new JwtClaimInvalidError('aud', 'mismatch');
      } else if (Array.isArray(aud)) {
        let matched = audiences === undefined;
        for (const entry of aud as unknown[]) {
          if (typeof entry !== 'string') throw new JwtClaimInvalidError('aud', 'invalid');
          if (!matched && audienceMatches(entry)) matched = true;
        }
        if (!matched) throw new JwtClaimInvalidError('aud', 'mismatch');
      } else {
        throw new JwtClaimInvalidError('aud', 'invalid');
      }
    } else if (audiences !== undefined) {
      throw new JwtClaimInvalidError('aud', 'missing');
    }
    if (hasOwn(p, 'jti') && typeof p['jti'] !== 'string') throw new JwtClaimInvalidError('jti', 'invalid');
    for (let i = 0; i < requiredList.length; i++) {
      const name = requiredList[i]!;
      if (!hasOwn(p, name)) throw new JwtClaimInvalidError(name, 'missing');
    }
  }

  function window(p: JsonObject): { from: number; until: number } {
    let from = -Infinity;
    let until = Infinity;
    if (hasOwn(p, 'exp')) until = ((p['exp'] as number) + leeway) * 1000;
    if (hasOwn(p, 'nbf')) from = ((p['nbf'] as number) - leeway) * 1000;
    if (hasOwn(p, 'iat')) from = Math.max(from, ((p['iat'] as number) - leeway) * 1000);
    if (maxTokenAge !== undefined) until = Math.min(until, ((p['iat'] as number) + maxTokenAge + leeway) * 1000);
    return { from, until };
  }

  return { check, window };
}
