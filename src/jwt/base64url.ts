/**
 * Canonical base64url (RFC 7515 §2, RFC 4648 §5 without padding). Node's Buffer decoder is lenient:
 * it accepts `=`, `+`, `/`, whitespace and non-zero trailing bits, so two different strings can decode
 * to the same bytes. hush accepts exactly one spelling per byte string.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** 6-bit value of each ASCII code, -1 outside the base64url alphabet. */
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * True when `s.slice(start, end)` is canonical unpadded base64url: alphabet only, a length that is not
 * 1 mod 4, and zero bits in the unused low bits of the last character. Works on a range so the verifier
 * need not allocate a substring.
 */
export function isCanonicalRange(s: string, start: number, end: number): boolean {
  const len = end - start;
  const rem = len & 3;
  if (rem === 1) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || VALUE[c]! < 0) return false;
  }
  if (rem === 0 || len === 0) return true;
  const last = VALUE[s.charCodeAt(end - 1)]!;
  // 2 chars carry 1 byte (4 spare bits); 3 chars carry 2 bytes (2 spare bits).
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/**
 * Decodes `s.slice(start, end)` if it is canonical unpadded base64url, else returns undefined. The hot
 * path of the verifier: instead of inspecting every character in JavaScript, it lets native code do the
 * work — an ASCII check (`Buffer.byteLength`), the lenient decoder, and two `indexOf` scans — and then
 * compares lengths. The decoder skips (or stops at) every character outside `A-Za-z0-9-_+/`, and each
 * skipped character costs at least one output byte for any length that is not 1 mod 4, so a length match
 * proves every character was one of those; `+` and `/` are then excluded by name, and the unused bits of
 * the last character must be zero.
 */
export function decodeCanonicalRange(s: string, start: number, end: number): Buffer | undefined {
  const len = end - start;
  const rem = len & 3;
  if (rem === 1) return undefined;
  const segment = s.slice(start, end);
  if (Buffer.byteLength(segment, 'utf8') !== len) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.length !== (len * 3) >>> 2) return undefined;
  if (segment.indexOf('+') !== -1 || segment.indexOf('/') !== -1) return undefined;
  if (rem !== 0 && (VALUE[segment.charCodeAt(len - 1)]! & (rem === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  return bytes;
}

/** True when the whole string is canonical unpadded base64url. */
export function isCanonical(s: string): boolean {
  return isCanonicalRange(s, 0, s.length);
}

/** Decodes canonical base64url, or returns undefined for any other spelling. */
export function decodeStrict(s: string): Buffer | undefined {
  return isCanonicalRange(s, 0, s.length) ? Buffer.from(s, 'base64url') : undefined;
}

/** Encodes bytes (or a string's UTF-8 bytes) as unpadded base64url. */
export function encode(input: string | Uint8Array): string {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return buf.toString('base64url');
}
