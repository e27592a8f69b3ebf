import { isUtf8 } from 'node:buffer';

/** A parsed JSON object whose values are untrusted. */
export type JsonObject = Record<string, unknown>;

/**
 * Decodes strict UTF-8 (no overlongs, surrogates or truncated sequences, like a fatal TextDecoder) and
 * parses a JSON object. Returns undefined for invalid UTF-8, invalid JSON, or any JSON value that is not
 * an object (arrays, null, strings, numbers). `JSON.parse` turns a `"__proto__"` member into a plain own
 * property, so it cannot reach any prototype.
 */
export function parseJsonObject(bytes: Uint8Array): JsonObject | undefined {
  if (!isUtf8(bytes)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/**
 * True when the top-level object in `text` names a member twice. `JSON.parse` silently keeps the last
 * one, so a verifier and another parser could read different `alg`s from the same header. Names are
 * compared after unescaping (`"\u0061lg"` is `"alg"`). `text` must already have parsed as an object.
 */
export function hasDuplicateMembers(text: string): boolean {
  const seen = new Set<string>();
  let depth = 0;
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (depth === 1 && expectName) {
        const name = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(name)) return true;
        seen.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth === 1) expectName = true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectName = true;
    }
  }
  return false;
}

/** Freezes a parsed JSON value and everything inside it, so a cached payload cannot be changed by a caller. */
export function deepFreeze<T>(value: T): T {
  Object.freeze(value);
  for (const key in value) {
    const member: unknown = value[key];
    if (typeof member === 'object' && member !== null && !Object.isFrozen(member)) deepFreeze(member);
  }
  return value;
}
