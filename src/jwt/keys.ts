import { createHash, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { algorithmSpec, keyMismatch } from './algorithms.js';
import type { AlgorithmSpec } from './algorithms.js';
import type { JsonWebKey as NodeJwk } from 'node:crypto';
import { decodeStrict } from './base64url.js';
import { JwtKeyError } from './errors.js';
import type { Algorithm, ExportedJwk, JwtKey } from './types.js';

function freezeKey(alg: Algorithm, key: KeyObject, kid: string | undefined): JwtKey {
  return Object.freeze(kid === undefined ? { alg, key } : { alg, kid, key });
}

function checkKid(kid: unknown): string | undefined {
  if (kid === undefined) return undefined;
  if (typeof kid !== 'string' || kid.length === 0) throw new JwtKeyError('kid must be a non-empty string');
  return kid;
}

/**
 * Checks that a caller-built {@link JwtKey} really fits its algorithm and returns its table entry.
 * Factories call this once, so a hand-made `{ alg: 'HS256', key: rsaPublicKey }` is refused up front.
 */
export function assertJwtKey(key: JwtKey): AlgorithmSpec {
  if (typeof key !== 'object' || key === null || !(key.key instanceof KeyObject)) {
    throw new JwtKeyError('a JwtKey needs a node:crypto KeyObject');
  }
  const spec = algorithmSpec(key.alg);
  if (spec === undefined) throw new JwtKeyError('unsupported algorithm');
  const problem = keyMismatch(spec, key.key);
  if (problem !== undefined) throw new JwtKeyError(problem);
  checkKid(key.kid);
  return spec;
}

/**
 * Imports an HMAC secret. String secrets are taken as their UTF-8 bytes.
 * @throws JwtKeyError when the secret is shorter than the hash output (32/48/64 bytes)
 */
export function importSecret(secret: string | Uint8Array, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256', kid?: string): JwtKey {
  const spec = algorithmSpec(alg);
  if (spec === undefined || spec.family !== 'hmac') throw new JwtKeyError('importSecret takes HS256, HS384 or HS512');
  let bytes: Buffer;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  else throw new JwtKeyError('secret must be a string or bytes');
  if (bytes.length < spec.hashBytes) throw new JwtKeyError(`${alg} secrets must be at least ${spec.hashBytes} bytes`);
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return freezeKey(spec.alg, key, checkKid(kid));
}

/**
 * Generates a private key for an asymmetric algorithm (RSA 2048 for RS and PS, the matching curve for
 * ES, Ed25519 for EdDSA). `kid` defaults to the RFC 7638 thumbprint of the public key.
 */
export function generateKey(alg: Exclude<Algorithm, `HS${string}`>, options?: { kid?: string }): JwtKey {
  const spec = algorithmSpec(alg);
  if (spec === undefined || spec.family === 'hmac') throw new JwtKeyError('generateKey takes an asymmetric algorithm');
  let privateKey: KeyObject;
  switch (spec.family) {
    case 'rsa':
    case 'pss':
      privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      break;
    case 'ecdsa':
      privateKey = generateKeyPairSync('ec', { namedCurve: spec.curve! }).privateKey;
      break;
    default:
      privateKey = generateKeyPairSync('ed25519').privateKey;
  }
  const kid = checkKid(options?.kid) ?? thumbprint(privateKey);
  return freezeKey(spec.alg, privateKey, kid);
}

/** The members RFC 7638 §3.2 hashes for each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, readonly string[]>, {
    EC: ['crv', 'kty', 'x', 'y'],
    OKP: ['crv', 'kty', 'x'],
    RSA: ['e', 'kty', 'n'],
    oct: ['k', 'kty'],
  }),
);

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a KeyObject; of its public half for private keys. */
export function thumbprint(key: KeyObject): string {
  const source = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = source.export({ format: 'jwk' }) as Record<string, unknown>;
  const members = THUMBPRINT_MEMBERS[String(jwk['kty'])];
  if (members === undefined) throw new JwtKeyError('unsupported key type');
  // Member values are base64url or fixed names, so JSON.stringify of each is the canonical form.
  const json = '{' + members.map((m) => `"${m}":${JSON.stringify(jwk[m])}`).join(',') + '}';
  return createHash('sha256').update(json).digest('base64url');
}

function jwkCurveFits(spec: AlgorithmSpec, jwk: JsonWebKey): boolean {
  switch (spec.family) {
    case 'hmac':
      return jwk.kty === 'oct';
    case 'rsa':
    case 'pss':
      return jwk.kty === 'RSA';
    case 'ecdsa':
      return jwk.kty === 'EC' && jwk.crv === spec.jwkCurve;
    case 'eddsa':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
  }
}

/**
 * Imports a JWK. The algorithm comes from `jwk.alg` or `options.alg` (they must agree when both are
 * given) and is never inferred from the key material; a key whose type or curve does not fit it, an RSA
 * key under 2048 bits, a short secret or a key marked for another use is refused.
 * @throws JwtKeyError
 */
export function importJwk(jwk: JsonWebKey, options?: { alg?: Algorithm; kid?: string }): JwtKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new JwtKeyError('a JWK must be an object');
  const jwkAlg: unknown = jwk.alg;
  if (jwkAlg !== undefined && options?.alg !== undefined && jwkAlg !== options.alg) {
    throw new JwtKeyError('the JWK alg differs from the requested algorithm');
  }
  const spec = algorithmSpec(options?.alg ?? jwkAlg);
  if (spec === undefined) throw new JwtKeyError('the JWK needs a supported alg (from the JWK or the options)');
  if (!jwkCurveFits(spec, jwk)) throw new JwtKeyError(`the JWK key type does not fit ${spec.alg}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new JwtKeyError('the JWK is not a signing key');
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.some((op) => op === 'sign' || op === 'verify')) {
      throw new JwtKeyError('the JWK key_ops allow neither sign nor verify');
    }
  }
  const jwkKid: unknown = (jwk as { kid?: unknown }).kid;
  const kid = checkKid(options?.kid ?? jwkKid);
  let key: KeyObject;
  try {
    if (spec.family === 'hmac') {
      const bytes = typeof jwk.k === 'string' ? decodeStrict(jwk.k) : undefined;
      if (bytes === undefined) throw new JwtKeyError('the JWK "k" must be canonical base64url');
      if (bytes.length < spec.hashBytes) throw new JwtKeyError(`${spec.alg} secrets must be at least ${spec.hashBytes} bytes`);
      key = createSecretKey(bytes);
      bytes.fill(0);
    } else if (typeof jwk.d === 'string') {
      key = createPrivateKey({ key: jwk as NodeJwk, format: 'jwk' });
    } else {
      key = createPublicKey({ key: jwk as NodeJwk, format: 'jwk' });
    }
  } catch (error) {
    if (error instanceof JwtKeyError) throw error;
    throw new JwtKeyError('the JWK could not be imported');
  }
  const problem = keyMismatch(spec, key);
  if (problem !== undefined) throw new JwtKeyError(problem);
  return freezeKey(spec.alg, key, kid);
}

/**
 * Exports a key as a JWK with `kid` (its own, else the RFC 7638 thumbprint), `alg` and `use: "sig"`.
 * Public by default: a private key exports its public half, and a secret is refused unless
 * `private: true` is given explicitly.
 * @throws JwtKeyError for a secret without `private: true`
 */
export function exportJwk(key: JwtKey, options?: { private?: boolean }): ExportedJwk {
  assertJwtKey(key);
  const wantPrivate = options?.private === true;
  let source = key.key;
  if (source.type === 'secret' && !wantPrivate) throw new JwtKeyError('secrets are exported only with private: true');
  if (source.type === 'private' && !wantPrivate) source = createPublicKey(source);
  const jwk = source.export({ format: 'jwk' });
  const kid = key.kid ?? thumbprint(source);
  return { ...jwk, kid, alg: key.alg, use: 'sig' };
}

/** The public half of an asymmetric key, keeping `alg` and `kid`; a public key is returned as is. */
export function publicKey(key: JwtKey): JwtKey {
  assertJwtKey(key);
  if (key.key.type === 'public') return key;
  if (key.key.type === 'secret') throw new JwtKeyError('a secret has no public half');
  return freezeKey(key.alg, createPublicKey(key.key), key.kid);
}
