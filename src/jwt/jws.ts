import { decodeStrict, encode, isCanonicalRange } from './base64url.js';
import { assertSigningKey, checkSignature, createCompactCore, locateDots, rejectUnknownOptions } from './core.js';
import type { KeysInput } from './core.js';
import { JwtMalformedError, JwtOptionsError } from './errors.js';
import { deepFreeze, hasDuplicateMembers, parseJsonObject } from './json.js';
import { primitiveFor } from './primitives.js';
import type { Algorithm, JwtKey, JwtPayload } from './types.js';

/** Header members the caller may not set in {@link signJws}: they are decided by the key. */
const RESERVED = new Set(['alg', 'kid']);

/**
 * Signs arbitrary payload bytes (a string is taken as UTF-8) as a compact JWS. The header is `alg` and
 * the key's `kid` followed by the members given in `header`; `b64`/`crit` are refused, since hush does
 * not produce unencoded payloads or critical extensions.
 * @throws JwtKeyError for a key that cannot sign, JwtOptionsError for a bad header
 */
export function signJws(payload: string | Uint8Array, key: JwtKey, header?: Readonly<Record<string, unknown>>): string {
  const primitive = primitiveFor(key);
  assertSigningKey(key);
  const full: Record<string, unknown> = { alg: key.alg };
  if (key.kid !== undefined) full['kid'] = key.kid;
  if (header !== undefined) {
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new JwtOptionsError('header must be an object');
    for (const [name, value] of Object.entries(header)) {
      if (RESERVED.has(name)) {
        if (value !== full[name]) throw new JwtOptionsError(`header ${name} is set by the key`);
        continue;
      }
      if (name === 'crit' || name === 'b64') throw new JwtOptionsError(`header ${name} is not supported`);
      full[name] = value;
    }
  }
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) throw new JwtOptionsError('payload must be a string or bytes');
  const input = encode(JSON.stringify(full)) + '.' + encode(payload);
  return input + '.' + primitive.sign(input, input.length);
}

/**
 * Verifies a compact JWS over any payload and returns its (frozen) header and payload bytes. Same
 * strictness as the JWT verifier — length cap, canonical base64url, a header without duplicate members,
 * `crit`, the algorithm allow-list, exact `kid` lookup, low-s ECDSA unless `allowHighS` — but the payload
 * is opaque bytes.
 * @throws JwtError subclasses
 */
export function verifyJws(
  token: string,
  options: { keys: KeysInput; algorithms: readonly Algorithm[]; maxTokenLength?: number; allowHighS?: boolean },
): { header: Readonly<Record<string, unknown>>; payload: Uint8Array } {
  rejectUnknownOptions(options, ['keys', 'algorithms', 'maxTokenLength', 'allowHighS'], 'verifyJws');
  const core = createCompactCore(options);
  const dots = locateDots(token, core.maxTokenLength);
  const d1 = Math.floor(dots / 0x200000);
  const d2 = dots - d1 * 0x200000;
  const resolved = core.resolve(token.slice(0, d1));
  const payload = checkSignature(token, d1, d2, resolved.primitives, core.allowHighS);
  return { header: resolved.parsed.header, payload: new Uint8Array(payload) };
}

/**
 * Decodes a compact JWS/JWT without verifying anything but its syntax — for inspection only, never for
 * trust. Segments must be canonical base64url, the header a UTF-8 JSON object without duplicate
 * members. The payload is returned as a frozen object when it is a JSON object, else as its UTF-8 text.
 * @throws JwtMalformedError
 */
export function decode(token: string): { header: Readonly<Record<string, unknown>>; payload: JwtPayload | string } {
  const dots = locateDots(token, 1024 * 1024);
  const d1 = Math.floor(dots / 0x200000);
  const d2 = dots - d1 * 0x200000;
  const headerBytes = decodeStrict(token.slice(0, d1));
  const header = headerBytes === undefined ? undefined : parseJsonObject(headerBytes);
  if (header === undefined || headerBytes === undefined) throw new JwtMalformedError('header is not a canonical base64url UTF-8 JSON object');
  if (hasDuplicateMembers(headerBytes.toString('utf8'))) throw new JwtMalformedError('header has a duplicate member');
  if (!isCanonicalRange(token, d2 + 1, token.length)) throw new JwtMalformedError('signature is not canonical base64url');
  const payloadBytes = decodeStrict(token.slice(d1 + 1, d2));
  if (payloadBytes === undefined) throw new JwtMalformedError('payload is not canonical base64url');
  const object = parseJsonObject(payloadBytes);
  if (object !== undefined) return { header: deepFreeze(header), payload: deepFreeze(object) as JwtPayload };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payloadBytes);
  } catch {
    throw new JwtMalformedError('payload is not UTF-8');
  }
  return { header: deepFreeze(header), payload: text };
}
