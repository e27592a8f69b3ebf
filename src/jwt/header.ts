import { algorithmSpec } from './algorithms.js';
import type { AlgorithmSpec } from './algorithms.js';
import { decodeStrict } from './base64url.js';
import { JwsAlgorithmNotAllowedError, JwsCritUnsupportedError, JwtMalformedError } from './errors.js';
import { deepFreeze, hasDuplicateMembers, parseJsonObject } from './json.js';

/** A JOSE header that passed every structural check. */
export interface ParsedHeader {
  /** The whole header, deep-frozen. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The table entry of `alg` (never `none`, never a name outside the table). */
  readonly spec: AlgorithmSpec;
  readonly kid: string | undefined;
  readonly typ: string | undefined;
}

/** Header parameters RFC 7515 §4.1.11 forbids in `crit` (they are registered, hence always understood). */
const REGISTERED = new Set(['alg', 'jku', 'jwk', 'kid', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'typ', 'cty', 'crit']);

/**
 * Critical extensions hush implements. Only `b64`, and only with the value `true` (RFC 7797's default
 * encoding); `b64: false` changes what is signed and is refused.
 */
const UNDERSTOOD = new Set(['b64']);

const hasOwn = Object.hasOwn;

function checkCrit(header: Record<string, unknown>): void {
  const crit = header['crit'];
  if (!Array.isArray(crit) || crit.length === 0) throw new JwtMalformedError('crit must be a non-empty array');
  const names = new Set<string>();
  let unsupported = false;
  for (const name of crit as unknown[]) {
    if (typeof name !== 'string' || name.length === 0 || names.has(name) || REGISTERED.has(name) || !hasOwn(header, name)) {
      throw new JwtMalformedError('crit lists an invalid, duplicate, registered or absent parameter');
    }
    names.add(name);
    if (!UNDERSTOOD.has(name)) unsupported = true;
  }
  if (unsupported) throw new JwsCritUnsupportedError();
}

/**
 * Decodes and checks a header segment: canonical base64url, strict UTF-8, a JSON object without
 * duplicate member names, a supported `alg`, a well-formed `crit`, no `b64: false`, and string
 * `kid`/`typ`/`cty`. It does not choose a key: `jku`, `x5u`, `jwk` and `x5c` are never read.
 * @throws JwtMalformedError, JwsAlgorithmNotAllowedError, JwsCritUnsupportedError
 */
export function parseHeaderSegment(segment: string): ParsedHeader {
  if (segment.length === 0) throw new JwtMalformedError('empty header');
  const bytes = decodeStrict(segment);
  if (bytes === undefined) throw new JwtMalformedError('header is not canonical base64url');
  const header = parseJsonObject(bytes);
  if (header === undefined) throw new JwtMalformedError('header is not a UTF-8 JSON object');
  if (hasDuplicateMembers(bytes.toString('utf8'))) throw new JwtMalformedError('header has a duplicate member');
  if (!hasOwn(header, 'alg') || typeof header['alg'] !== 'string') throw new JwtMalformedError('header alg missing');
  const spec = algorithmSpec(header['alg']);
  if (spec === undefined) throw new JwsAlgorithmNotAllowedError();
  for (const member of ['kid', 'typ', 'cty'] as const) {
    if (hasOwn(header, member) && typeof header[member] !== 'string') throw new JwtMalformedError(`header ${member} must be a string`);
  }
  if (hasOwn(header, 'crit')) checkCrit(header);
  if (hasOwn(header, 'b64')) {
    const b64 = header['b64'];
    if (b64 === false) throw new JwsCritUnsupportedError();
    if (b64 !== true) throw new JwtMalformedError('header b64 must be a boolean');
  }
  return {
    header: deepFreeze(header),
    spec,
    kid: hasOwn(header, 'kid') ? (header['kid'] as string) : undefined,
    typ: hasOwn(header, 'typ') ? (header['typ'] as string) : undefined,
  };
}

/** `typ` in the form RFC 7515 §4.1.9 says to compare: case-insensitive, `application/` optional. */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
