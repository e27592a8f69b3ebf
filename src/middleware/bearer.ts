/**
 * Reading a Bearer token from an `Authorization` header (RFC 6750 §2.1). The accepted shape is
 * exactly the server's: `Bearer`, case-insensitive, one or more spaces, a b64token
 * (`[A-Za-z0-9-._~+/]+=*`), optional trailing spaces. Anything else — another scheme, an empty token,
 * a value with inner spaces or commas — is no token at all, as the contract says.
 *
 * It runs on every request, so it is split in two: {@link bearerCandidate} finds the token's position
 * without looking at its characters, and {@link isB64Token} checks them. A guard needs the second only
 * when verification fails, because every token that verifies is made of base64url segments and dots,
 * which are b64token characters; a cache hit thus costs no scan of the token.
 */

const SPACE = 0x20;
const EQUALS = 0x3d;

/** Whether `code` may appear in the body of a b64token (everything but the trailing `=` padding). */
function isTokenChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e || code === 0x2b || code === 0x2f // - . _ ~ + /
  );
}

/** Whether the first six characters spell `bearer` in any case. */
function startsWithBearer(header: string): boolean {
  // `| 0x20` folds ASCII upper case onto lower case; the letters of "bearer" have no other preimage.
  return (
    (header.charCodeAt(0) | 0x20) === 0x62 &&
    (header.charCodeAt(1) | 0x20) === 0x65 &&
    (header.charCodeAt(2) | 0x20) === 0x61 &&
    (header.charCodeAt(3) | 0x20) === 0x72 &&
    (header.charCodeAt(4) | 0x20) === 0x65 &&
    (header.charCodeAt(5) | 0x20) === 0x72
  );
}

/**
 * What follows `Bearer` and its spaces, without trailing spaces — the token if the header is well
 * formed, which {@link isB64Token} tells. `undefined` when the header is absent, of another scheme, or
 * holds nothing after the scheme.
 */
export function bearerCandidate(header: string | undefined): string | undefined {
  if (typeof header !== 'string' || header.length < 8 || !startsWithBearer(header) || header.charCodeAt(6) !== SPACE) return undefined;
  let start = 7;
  let end = header.length;
  if (header.charCodeAt(start) === SPACE) {
    while (start < end && header.charCodeAt(start) === SPACE) start++;
  }
  if (header.charCodeAt(end - 1) === SPACE) {
    while (end > start && header.charCodeAt(end - 1) === SPACE) end--;
  }
  if (start === end) return undefined;
  return start === 7 && end === header.length ? header.slice(7) : header.slice(start, end);
}

/** Whether `value` is a single b64token: `[A-Za-z0-9-._~+/]+=*`. */
export function isB64Token(value: string): boolean {
  const length = value.length;
  let i = 0;
  while (i < length && isTokenChar(value.charCodeAt(i))) i++;
  if (i === 0) return false;
  while (i < length && value.charCodeAt(i) === EQUALS) i++;
  return i === length;
}

/**
 * The token of a `Bearer <token>` Authorization header, or `undefined` when the header is absent or
 * is anything else (which counts as no token).
 */
export function bearerToken(header: string | undefined): string | undefined {
  const candidate = bearerCandidate(header);
  return candidate !== undefined && isB64Token(candidate) ? candidate : undefined;
}
