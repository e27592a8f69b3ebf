import { algorithmSpec } from './algorithms.js';
import { decodeCanonicalRange, isCanonicalRange } from './base64url.js';
import {
  JwksKeyNotFoundError,
  JwsAlgorithmNotAllowedError,
  JwsSignatureInvalidError,
  JwtClaimInvalidError,
  JwtKeyError,
  JwtMalformedError,
  JwtOptionsError,
  JwtTooLargeError,
} from './errors.js';
import { normalizeTyp, parseHeaderSegment } from './header.js';
import type { ParsedHeader } from './header.js';
import { KeySet } from './key-set.js';
import { primitiveFor } from './primitives.js';
import type { KeyPrimitive } from './primitives.js';
import type { Algorithm, JwtKey } from './types.js';

/** Keys as every factory accepts them. */
export type KeysInput = JwtKey | readonly JwtKey[] | KeySet;

/** Default cap on the token length (RFC 8725 asks for limits; access tokens are far smaller). */
export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

/** Builds a KeySet from any accepted key input, checking every key against its algorithm. */
export function toKeySet(keys: KeysInput): KeySet {
  if (keys instanceof KeySet) return keys;
  if (Array.isArray(keys)) return new KeySet(keys as readonly JwtKey[]);
  if (typeof keys === 'object' && keys !== null) return new KeySet([keys as JwtKey]);
  throw new JwtOptionsError('keys must be a JwtKey, an array of JwtKeys or a KeySet');
}

/** Validates `algorithms` and returns it as a set. */
export function allowedAlgorithms(algorithms: unknown): ReadonlySet<Algorithm> {
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new JwtOptionsError('algorithms must be a non-empty array');
  for (const alg of algorithms) {
    if (algorithmSpec(alg) === undefined) throw new JwtOptionsError('algorithms lists an unsupported algorithm');
  }
  return new Set(algorithms as Algorithm[]);
}

/** Validates `maxTokenLength`. */
export function maxLength(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_TOKEN_LENGTH;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 16 || value > 1024 * 1024) {
    throw new JwtOptionsError('maxTokenLength must be an integer from 16 to 1048576');
  }
  return value;
}

/** Validates `allowHighS` (default false: ECDSA signatures must be in low-s form). */
export function allowHighSOption(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new JwtOptionsError('allowHighS must be a boolean');
  return value;
}

/** Throws for an option name a factory does not know — a misspelt `audience` must not disable a check. */
export function rejectUnknownOptions(options: object, known: readonly string[], factory: string): void {
  if (typeof options !== 'object' || options === null) throw new JwtOptionsError(`${factory} needs an options object`);
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new JwtOptionsError(`${factory}: unknown option "${name}"`);
  }
}

/** `typ` verdicts, decided when the header is resolved and thrown only after the signature verified. */
export const TYP_OK = 0;
export const TYP_MISSING = 1;
export const TYP_MISMATCH = 2;

/** A header segment resolved against one verifier's algorithms and keys. */
export interface ResolvedHeader {
  readonly parsed: ParsedHeader;
  readonly primitives: readonly KeyPrimitive[];
  readonly typ: number;
}

/**
 * The signature layer of a verifier: it resolves header segments (each distinct header is parsed and
 * checked once, then remembered — but only after a signature made under it verified, so forged headers
 * never enter the memo) and checks signatures.
 */
export interface CompactCore {
  readonly maxTokenLength: number;
  /** Whether ECDSA signatures in high-s form verify (the `allowHighS` option). */
  readonly allowHighS: boolean;
  /** Resolves a header segment (memoised). @throws on a bad header, a disallowed alg, an unknown key */
  resolve(segment: string): ResolvedHeader;
  /** The memoised resolution of a header segment, if any. */
  lookup(segment: string): ResolvedHeader | undefined;
  /** Parses and resolves a header segment without the memo. @throws like {@link CompactCore.resolve} */
  parse(segment: string): ResolvedHeader;
  /** Remembers a resolved header once a token under it verified. */
  remember(segment: string, resolved: ResolvedHeader): void;
  /** Forgets every remembered header. */
  clear(): void;
}

const HEADER_MEMO_MAX = 64;

/** Verdict of a header's `typ` against the expected, normalised one. */
export function typVerdict(expected: string | undefined, typ: string | undefined): number {
  if (expected === undefined) return TYP_OK;
  if (typ === undefined) return TYP_MISSING;
  return normalizeTyp(typ) === expected ? TYP_OK : TYP_MISMATCH;
}

/** Throws the claim error for a failed `typ` verdict. */
export function throwTyp(verdict: number): never {
  throw new JwtClaimInvalidError('typ', verdict === TYP_MISSING ? 'missing' : 'mismatch');
}

/** Validates the `typ` option and returns its normalised form. */
export function expectedTyp(typ: unknown): string | undefined {
  if (typ === undefined) return undefined;
  if (typeof typ !== 'string' || typ.length === 0) throw new JwtOptionsError('typ must be a non-empty string');
  return normalizeTyp(typ);
}

/** Builds the signature layer for a key set and an algorithm allow-list. */
export function createCompactCore(options: { keys: KeysInput; algorithms: unknown; maxTokenLength?: unknown; typ?: unknown; allowHighS?: unknown }): CompactCore {
  const keySet = toKeySet(options.keys);
  const allowed = allowedAlgorithms(options.algorithms);
  const served = new Set(keySet.algorithms());
  for (const alg of allowed) {
    if (!served.has(alg)) throw new JwtOptionsError(`algorithm ${alg} is allowed but no key serves it`);
  }
  for (const key of keySet.keys) primitiveFor(key);
  const typ = expectedTyp(options.typ);
  const memo = new Map<string, ResolvedHeader>();

  function resolve(segment: string): ResolvedHeader {
    return memo.get(segment) ?? parse(segment);
  }

  function parse(segment: string): ResolvedHeader {
    const parsed = parseHeaderSegment(segment);
    if (!allowed.has(parsed.spec.alg)) throw new JwsAlgorithmNotAllowedError();
    const keys = keySet.candidates(parsed.kid, parsed.spec.alg);
    if (keys.length === 0) throw new JwksKeyNotFoundError();
    return { parsed, primitives: keys.map(primitiveFor), typ: typVerdict(typ, parsed.typ) };
  }

  function remember(segment: string, resolved: ResolvedHeader): void {
    if (memo.size >= HEADER_MEMO_MAX) memo.clear();
    memo.set(segment, resolved);
  }

  return {
    maxTokenLength: maxLength(options.maxTokenLength),
    allowHighS: allowHighSOption(options.allowHighS),
    resolve,
    lookup: (segment) => memo.get(segment),
    parse,
    remember,
    clear: () => memo.clear(),
  };
}

/**
 * Positions of the two dots of a compact JWS, packed as `d1 * 2^21 + d2` (tokens are capped well below
 * 2^21 characters), after the type and length checks. Extra dots are caught later by the base64url
 * checks of the payload and signature ranges.
 * @throws JwtMalformedError, JwtTooLargeError
 */
export function locateDots(token: unknown, maxTokenLength: number): number {
  if (typeof token !== 'string') throw new JwtMalformedError('token must be a string');
  if (token.length > maxTokenLength) throw new JwtTooLargeError();
  const d1 = token.indexOf('.');
  if (d1 <= 0) throw new JwtMalformedError('token must have three segments');
  const d2 = token.indexOf('.', d1 + 1);
  if (d2 < 0) throw new JwtMalformedError('token must have three segments');
  return d1 * 0x200000 + d2;
}

/**
 * Decodes the payload range (canonical base64url, or malformed), then checks the signature under each
 * candidate key, and returns the payload bytes. The header range was checked when it was resolved, so
 * the signing input is known to be ASCII before any MAC runs. ECDSA signatures must be in low-s form
 * unless `allowHighS`. A signature that fails and is not even
 * canonical base64url is reported as malformed rather than forged.
 * @throws JwtMalformedError, JwsSignatureInvalidError
 */
export function checkSignature(token: string, d1: number, d2: number, primitives: readonly KeyPrimitive[], allowHighS: boolean): Buffer {
  const payload = decodeCanonicalRange(token, d1 + 1, d2);
  if (payload === undefined) throw new JwtMalformedError('payload is not canonical base64url');
  for (let i = 0; i < primitives.length; i++) {
    if (primitives[i]!.verify(token, d2, d2 + 1, allowHighS)) return payload;
  }
  if (!isCanonicalRange(token, d2 + 1, token.length)) throw new JwtMalformedError('signature is not canonical base64url');
  throw new JwsSignatureInvalidError();
}

/** Checks a key can sign (a secret or a private key). */
export function assertSigningKey(key: JwtKey): void {
  if (key.key.type === 'public') throw new JwtKeyError('a public key cannot sign');
}
