/**
 * The refresh cookie: `__Host-hush-refresh` (`hush-refresh` when HUSH_COOKIE_SECURE=false),
 * HttpOnly, Secure, SameSite, `Path=/`, no Domain, with Max-Age the token's remaining lifetime.
 *
 * The `__Host-` prefix is the defence against cookie tossing: a browser refuses a cookie of that
 * name unless it is Secure, host-only and at `Path=/`, so a sibling subdomain can neither set nor
 * shadow it. Should a `Cookie` header carry the name twice anyway (the unprefixed name of plain-http
 * development, or a browser without prefixes), taking either value would let the other party choose
 * the session: the request is refused instead (see {@link CookieRead}).
 *
 * Migration (one release): the cookie used to be `__Secure-hush-refresh` at `Path=/auth` (`/` in
 * server-refresh mode). A refresh that presents only that one is served and answered with the new
 * cookie, and the old one is cleared at both paths, so the upgrade signs nobody out.
 *
 * The header is read by a small scanner and the Set-Cookie line written here, not by @fastify/cookie:
 * the attributes are fixed by the configuration and the value is always a base64url JWS (or empty),
 * which needs no encoding. That spares every refresh a generic parser, serializer and onSend hook.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError, type HushConfig } from '../config.js';

/** What the request's `Cookie` header holds of the refresh cookie. */
export type CookieRead =
  /** No refresh cookie (or one whose value cannot be a refresh token). */
  | { readonly kind: 'none' }
  /**
   * One refresh token (the pre-fix cookie's when the new one is absent); `legacy` when the request
   * carries the pre-fix cookie, which the answer must then clear.
   */
  | { readonly kind: 'token'; readonly token: string; readonly legacy: boolean }
  /** The name appears more than once: someone else (a sibling subdomain, say) set one of them. */
  | { readonly kind: 'duplicate' };

/** Cookie settings derived once from the configuration. */
export interface RefreshCookie {
  readonly name: string;
  /** Reads the refresh cookie from the request's `Cookie` header. */
  read(request: FastifyRequest): CookieRead;
  /** Sets the cookie to `token` for `maxAge` seconds; `migrate` also clears the pre-fix cookie. */
  set(reply: FastifyReply, token: string, maxAge: number, migrate?: boolean): void;
  /** Clears the cookie (Max-Age=0) at `Path=/`. */
  clear(reply: FastifyReply): void;
  /** Clears the cookie and the pre-fix one (logout; a failed refresh of a pre-fix cookie). */
  clearWithLegacy(reply: FastifyReply): void;
  /** Clears the cookie at `Path=/` and `Path=/auth`, and the pre-fix cookie too (a duplicate). */
  clearEverywhere(reply: FastifyReply): void;
}

/** The cookie's names: the current one by HUSH_COOKIE_SECURE, and the pre-fix secure one. */
export const COOKIE_NAMES = { secure: '__Host-hush-refresh', plain: 'hush-refresh', legacy: '__Secure-hush-refresh' } as const;

/** `error_description` of a refusal for a duplicated cookie. */
export const DUPLICATE_COOKIE_MESSAGE =
  'The request carries the refresh cookie more than once (possibly set by another subdomain of this site); both were cleared: sign in again.';

/** A refresh token is a JWS: base64url segments and dots, and never longer than a few hundred bytes. */
const TOKEN_SHAPE = /^[A-Za-z0-9_.-]{1,4096}$/;

const NONE: CookieRead = { kind: 'none' };
const DUPLICATE: CookieRead = { kind: 'duplicate' };

/** Builds the refresh cookie for `config`; refuses the unprotected name when the public origin is https. */
export function refreshCookie(config: HushConfig): RefreshCookie {
  if (!config.cookieSecure && config.publicOrigin?.startsWith('https:')) {
    throw new ConfigError(
      'HUSH_COOKIE_SECURE=false is refused when HUSH_PUBLIC_ORIGIN is https: the plain hush-refresh cookie could be set or shadowed by any subdomain',
    );
  }
  const name = config.cookieSecure ? COOKIE_NAMES.secure : COOKIE_NAMES.plain;
  // Plain mode has no prefix: the pre-fix cookie was `hush-refresh` at Path=/auth, the same name.
  const legacy = config.cookieSecure ? COOKIE_NAMES.legacy : undefined;
  const flags = `; HttpOnly${config.cookieSecure ? '; Secure' : ''}; SameSite=${config.cookieSameSite === 'strict' ? 'Strict' : 'Lax'}`;
  const attributes = `; Path=/${flags}`;
  const clearLine = (cookieName: string, path: string): string => `${cookieName}=; Max-Age=0; Path=${path}${flags}`;
  const clearHere = clearLine(name, '/');
  const clearAuth = clearLine(name, '/auth');
  // Plain mode cannot tell the pre-fix cookie (Path=/auth) from the new one by name: every cookie it
  // sets clears the old path too, or a browser would send both and be refused as a duplicate.
  const migrationLines = legacy ? [clearLine(legacy, '/auth'), clearLine(legacy, '/')] : [clearAuth];
  const everywhere = [clearHere, clearAuth, ...(legacy ? [clearLine(legacy, '/auth'), clearLine(legacy, '/')] : [])];

  return {
    name,
    read(request) {
      const header = request.headers.cookie;
      return header === undefined ? NONE : scan(header, name, legacy);
    },
    set(reply, token, maxAge, migrate = false) {
      if (!TOKEN_SHAPE.test(token)) throw new TypeError('a refresh cookie value must be a JWS');
      if (!Number.isFinite(maxAge)) throw new TypeError('a refresh cookie needs a finite Max-Age');
      appendSetCookie(reply, `${name}=${token}; Max-Age=${Math.max(0, Math.floor(maxAge))}${attributes}`);
      if (migrate || !legacy) for (const line of migrationLines) appendSetCookie(reply, line);
    },
    clear(reply) {
      appendSetCookie(reply, clearHere);
    },
    clearWithLegacy(reply) {
      appendSetCookie(reply, clearHere);
      for (const line of migrationLines) appendSetCookie(reply, line);
    },
    clearEverywhere(reply) {
      for (const line of everywhere) appendSetCookie(reply, line);
    },
  };
}

/**
 * Finds `name` (and else `legacy`) among the pairs of a `Cookie` header (`a=1; b=2`), counting
 * occurrences: two of either name is a duplicate. No object per pair, unlike a general parser.
 */
function scan(header: string, name: string, legacy: string | undefined): CookieRead {
  let value: string | undefined;
  let count = 0;
  let legacyValue: string | undefined;
  let legacyCount = 0;
  for (let start = 0; start < header.length; ) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end) {
      const key = header.slice(start, eq).trim();
      if (key === name) {
        count++;
        value = header.slice(eq + 1, end).trim();
      } else if (key === legacy) {
        legacyCount++;
        legacyValue = header.slice(eq + 1, end).trim();
      }
    }
    start = end + 1;
  }
  if (count > 1) return DUPLICATE;
  if (count === 1) return value !== undefined && TOKEN_SHAPE.test(value) ? { kind: 'token', token: value, legacy: legacyCount > 0 } : NONE;
  if (legacyCount > 1) return DUPLICATE;
  if (legacyCount === 1 && legacyValue !== undefined && TOKEN_SHAPE.test(legacyValue)) return { kind: 'token', token: legacyValue, legacy: true };
  return NONE;
}

/**
 * Adds a Set-Cookie line, keeping any the host application set on this reply, and replacing an
 * earlier line of ours for the same name and path.
 */
function appendSetCookie(reply: FastifyReply, line: string): void {
  const existing = reply.getHeader('set-cookie');
  if (existing === undefined) {
    reply.header('set-cookie', line);
    return;
  }
  // Fastify appends to set-cookie: take the lines out, then put back all but an earlier one of ours.
  const name = line.slice(0, line.indexOf('=') + 1);
  const path = pathOf(line);
  const lines = (Array.isArray(existing) ? existing : [String(existing)]).filter((l) => !(l.startsWith(name) && pathOf(l) === path));
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...lines, line]);
}

function pathOf(line: string): string | undefined {
  return /; Path=([^;]*)/i.exec(line)?.[1];
}
