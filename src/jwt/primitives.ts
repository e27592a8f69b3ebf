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
   * An ECDSA signature must be in low-s form unless `allowHighS`.
   */
  verify(token: string, inputLength: number, sigStart: number, allowHighS: boolean): boolean;
}

let scratch = Buffer.allocUnsafe(16 * 1024);

/** Writes `s[0, length)` (ASCII) into a shared buffer and returns a view of it. Synchronous use only. */
function asciiBytes(s: string, length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, scratch.length * 2));
  scratch.write(s, 0, length, 'latin1');
  return scratch.subarray(0, length);
}

/**
 * Constant-time comparison of `expected` with `token[start, token.length)`: false at once when the
 * lengths differ (a MAC's length is public), else the XOR of every pair of UTF-16 code units is ORed
 * into one accumulator, with no early exit, and the result is whether it stayed 0. It compares the
 * base64url text, so the signature is never decoded; exported for its property test only.
 */
export function equalsAt(expected: string, token: string, start: number): boolean {
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

/**
 * Group orders of the ECDSA curves (SEC 2 / FIPS 186-4), keyed by node's curve name, as fixed-width
 * big-endian bytes — the width of one half of a P1363 signature.
 */
const CURVE_ORDERS: Readonly<Record<string, string>> = {
  prime256v1: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
  secp384r1: 'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  secp521r1: '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
};

/**
 * ECDSA's `s` and `n − s` both verify, so every signature has a twin (malleability). hush accepts and
 * emits only the low one, `s ≤ n/2`, so a token has exactly one valid signature. `half` is
 * floor(n/2) as fixed-width big-endian bytes: comparing bytes from the left is comparing numbers.
 */
interface LowS {
  readonly n: bigint;
  readonly half: Buffer;
  readonly width: number;
}

function lowSFor(curve: string | undefined): LowS {
  const hex = curve === undefined ? undefined : CURVE_ORDERS[curve];
  if (hex === undefined) throw new TypeError('unknown ECDSA curve');
  const n = BigInt('0x' + hex);
  const width = hex.length / 2;
  return { n, half: Buffer.from((n >> 1n).toString(16).padStart(width * 2, '0'), 'hex'), width };
}

/** Whether the `s` half of a P1363 signature is at most n/2. Public data: no need for constant time. */
function isLowS(signature: Buffer, low: LowS): boolean {
  const width = low.width;
  for (let i = 0; i < width; i++) {
    const a = signature[width + i]!;
    const b = low.half[i]!;
    if (a !== b) return a < b;
  }
  return true;
}

/** Rewrites a P1363 signature with `s > n/2` to its twin `n − s` (in place). */
function normalizeLowS(signature: Buffer, low: LowS): Buffer {
  if (isLowS(signature, low)) return signature;
  const s = BigInt('0x' + signature.toString('hex', low.width));
  Buffer.from((low.n - s).toString(16).padStart(low.width * 2, '0'), 'hex').copy(signature, low.width);
  return signature;
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
  const low = spec.family === 'ecdsa' ? lowSFor(spec.curve) : undefined;
  return {
    spec,
    signatureBytes,
    sign(input, length) {
      if (!canSign) throw new TypeError('a public key cannot sign');
      const signature = cryptoSign(digest, asciiBytes(input, length), signKey);
      return (low === undefined ? signature : normalizeLowS(signature, low)).toString('base64url');
    },
    verify(token, inputLength, sigStart, allowHighS) {
      // Only the canonical spelling of a signature counts: a twin with other trailing bits must not verify.
      const signature = decodeCanonicalRange(token, sigStart, token.length);
      if (signature === undefined || signature.length !== signatureBytes) return false;
      // Nor does the high-s twin of an ECDSA signature (checked before the costly verify).
      if (low !== undefined && !allowHighS && !isLowS(signature, low)) return false;
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
