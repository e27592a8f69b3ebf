import { constants, createHash, createPublicKey, hash, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject, SignKeyObjectInput, VerifyKeyObjectInput } from 'node:crypto';
import type { AlgorithmSpec } from './algorithms.js';
import { decodeCanonicalRange } from './base64url.js';
import { assertJwtKey } from './keys.js';
import type { JwtKey } from './types.js';

/**
 * The signing and verifying primitive of one key, built once per key and reused by every signer and
 * verifier (see {@link primitiveFor}). Inputs are compact-JWS strings that have already been checked
 * to be ASCII, so they are written to bytes as latin1 without an encoder pass.
 */
export interface KeyPrimitive {
  readonly spec: AlgorithmSpec;
  /** Signature length in bytes; every other length is refused before any crypto runs. */
  readonly signatureBytes: number;
  /** Signs `input[0, length)` and returns the signature as base64url. Needs a secret or private key. */
  sign(input: string, length: number): string;
  /**
   * Verifies that `token[sigStart, token.length)` is the canonical base64url signature of
   * `token[0, inputLength)`. The caller has checked that the signing input is canonical base64url (ASCII).
   */
  verify(token: string, inputLength: number, sigStart: number): boolean;
}

let scratch = Buffer.allocUnsafe(16 * 1024);

/** Writes `s[0, length)` (ASCII) into a shared buffer and returns a view of it. Synchronous use only. */
function asciiBytes(s: string, length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, scratch.length * 2));
  scratch.write(s, 0, length, 'latin1');
  return scratch.subarray(0, length);
}

/** Constant-time comparison of `expected` with `token[start, token.length)`. Lengths are public. */
function equalsAt(expected: string, token: string, start: number): boolean {
  const len = expected.length;
  if (token.length - start !== len) return false;
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= expected.charCodeAt(i) ^ token.charCodeAt(start + i);
  return diff === 0;
}

/**
 * HMAC (RFC 2104) over node:crypto's one-shot `hash()`, with the key's inner and outer pads prepared
 * once: two native calls per MAC instead of building an Hmac object. The pads live in per-key buffers,
 * the same secret material the KeyObject already holds.
 */
function hmacPrimitive(spec: AlgorithmSpec, secret: KeyObject): KeyPrimitive {
  const algorithm = spec.hash!;
  const block = algorithm === 'sha256' ? 64 : 128;
  let k = secret.export();
  if (k.length > block) {
    const long = k;
    k = createHash(algorithm).update(long).digest();
    long.fill(0);
  }
  const ipad = Buffer.alloc(block);
  const outer = Buffer.alloc(block + spec.hashBytes);
  for (let i = 0; i < block; i++) {
    const byte = k[i] ?? 0;
    ipad[i] = byte ^ 0x36;
    outer[i] = byte ^ 0x5c;
  }
  k.fill(0);

  function mac(input: string, length: number): string {
    // The inner hash input (ipad || message) is assembled in the shared scratch buffer, so a key
    // costs no large allocation — refresh-token keys are derived per user and used once.
    if (scratch.length < block + length) scratch = Buffer.allocUnsafe(Math.max(block + length, scratch.length * 2));
    ipad.copy(scratch, 0);
    scratch.write(input, block, length, 'latin1');
    const innerDigest = hash(algorithm, scratch.subarray(0, block + length), 'buffer');
    outer.set(innerDigest, block);
    return hash(algorithm, outer, 'base64url');
  }

  return {
    spec,
    signatureBytes: spec.hashBytes,
    sign: mac,
    verify(token, inputLength, sigStart) {
      return equalsAt(mac(token, inputLength), token, sigStart);
    },
  };
}

function asymmetricPrimitive(spec: AlgorithmSpec, key: KeyObject): KeyPrimitive {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  let signatureBytes = spec.signatureBytes ?? 0;
  let verifyKey: KeyObject | VerifyKeyObjectInput = publicKey;
  let signKey: KeyObject | SignKeyObjectInput = key;
  if (spec.family === 'ecdsa') {
    verifyKey = { key: publicKey, dsaEncoding: 'ieee-p1363' };
    signKey = { key, dsaEncoding: 'ieee-p1363' };
  } else if (spec.family === 'pss') {
    verifyKey = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashBytes };
    signKey = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashBytes };
  }
  if (spec.family === 'rsa' || spec.family === 'pss') {
    signatureBytes = Math.ceil((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  }
  const digest = spec.hash;
  const canSign = key.type === 'private';
  return {
    spec,
    signatureBytes,
    sign(input, length) {
      if (!canSign) throw new TypeError('a public key cannot sign');
      return cryptoSign(digest, asciiBytes(input, length), signKey).toString('base64url');
    },
    verify(token, inputLength, sigStart) {
      // Only the canonical spelling of a signature counts: a twin with other trailing bits must not verify.
      const signature = decodeCanonicalRange(token, sigStart, token.length);
      if (signature === undefined || signature.length !== signatureBytes) return false;
      try {
        return cryptoVerify(digest, asciiBytes(token, inputLength), verifyKey, signature);
      } catch {
        return false;
      }
    },
  };
}

const primitives = new WeakMap<JwtKey, KeyPrimitive>();

/** The (cached) primitive of a key; checks the key fits its algorithm the first time. */
export function primitiveFor(key: JwtKey): KeyPrimitive {
  let primitive = primitives.get(key);
  if (primitive === undefined) {
    const spec = assertJwtKey(key);
    primitive = spec.family === 'hmac' ? hmacPrimitive(spec, key.key) : asymmetricPrimitive(spec, key.key);
    primitives.set(key, primitive);
  }
  return primitive;
}
