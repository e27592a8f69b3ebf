import { assertSigningKey, rejectUnknownOptions } from './core.js';
import { encode } from './base64url.js';
import { JwtClaimInvalidError, JwtMalformedError, JwtOptionsError } from './errors.js';
import { KeySet } from './key-set.js';
import { primitiveFor } from './primitives.js';
import type { JwtKey } from './types.js';

/** Options of {@link createSigner}. */
export interface SignerOptions {
  /** A KeySet signs with its `active` key. */
  key: JwtKey | KeySet;
  /** Header `typ`, default `JWT` (access tokens use `at+jwt`). */
  typ?: string;
  /** Put `kid` in the header when the key has one (default true). */
  kid?: boolean;
}

const hasOwn = Object.hasOwn;

function isFiniteNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Creates a JWT signer. The header (`alg`, `typ`, `kid`) is serialised and encoded once; each call
 * serialises the payload, encodes it and signs. The payload is signed as given — add `iat`/`exp`
 * yourself — but `exp`/`nbf`/`iat` must be finite numbers (JSON would turn `Infinity` into `null`).
 * @throws JwtOptionsError or JwtKeyError (at creation); the signer throws JwtMalformedError for a
 * non-object payload and JwtClaimInvalidError for a non-numeric time claim
 */
export function createSigner(options: SignerOptions): (payload: Readonly<Record<string, unknown>>) => string {
  rejectUnknownOptions(options, ['key', 'typ', 'kid'], 'createSigner');
  const key = options.key instanceof KeySet ? options.key.active : options.key;
  if (typeof key !== 'object' || key === null) throw new JwtOptionsError('key must be a JwtKey or a KeySet');
  const primitive = primitiveFor(key);
  assertSigningKey(key);
  const typ = options.typ ?? 'JWT';
  if (typeof typ !== 'string' || typ.length === 0) throw new JwtOptionsError('typ must be a non-empty string');
  if (options.kid !== undefined && typeof options.kid !== 'boolean') throw new JwtOptionsError('kid must be a boolean');
  const header: Record<string, string> = { alg: key.alg, typ };
  if (options.kid !== false && key.kid !== undefined) header['kid'] = key.kid;
  const headerPart = encode(JSON.stringify(header)) + '.';
  let buffer = Buffer.allocUnsafe(16 * 1024);

  return function sign(payload: Readonly<Record<string, unknown>>): string {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new JwtMalformedError('payload must be a JSON object');
    }
    if (hasOwn(payload, 'exp') && !isFiniteNumber(payload['exp'])) throw new JwtClaimInvalidError('exp', 'invalid');
    if (hasOwn(payload, 'nbf') && !isFiniteNumber(payload['nbf'])) throw new JwtClaimInvalidError('nbf', 'invalid');
    if (hasOwn(payload, 'iat') && !isFiniteNumber(payload['iat'])) throw new JwtClaimInvalidError('iat', 'invalid');
    const json = JSON.stringify(payload);
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (json.length * 3 > buffer.length) buffer = Buffer.allocUnsafe(json.length * 3);
    const written = buffer.write(json, 0, buffer.length, 'utf8');
    const input = headerPart + buffer.toString('base64url', 0, written);
    return input + '.' + primitive.sign(input, input.length);
  };
}
