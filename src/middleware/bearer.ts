/**
 * Reading a Bearer token from an `Authorization` header (RFC 6750 §2.1), by hand rather than with a
 * RegExp because it runs on every request. The accepted shape is exactly the server's:
 * `Bearer`, case-insensitive, one or more spaces, a b64token (`[A-Za-z0-9-._~+/]+=*`), optional
 * trailing spaces. Anything else — another scheme, an empty token, a token with inner spaces or
 * commas — is no token at all, as the contract says.
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
 * The token of a `Bearer <token>` Authorization header, or `undefined` when the header is absent or
 * is anything else (which counts as no token).
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (typeof header !== 'string' || header.length < 8 || !startsWithBearer(header)) return undefined;
  const length = header.length;
  let i = 6;
  if (header.charCodeAt(i) !== SPACE) return undefined;
  while (i < length && header.charCodeAt(i) === SPACE) i++;
  const start = i;
  while (i < length && isTokenChar(header.charCodeAt(i))) i++;
  if (i === start) return undefined;
  while (i < length && header.charCodeAt(i) === EQUALS) i++;
  const end = i;
  while (i < length && header.charCodeAt(i) === SPACE) i++;
  if (i !== length) return undefined;
  return header.slice(start, end);
}
