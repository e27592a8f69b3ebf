/**
 * The refresh cookie: HttpOnly, Secure, SameSite, scoped to /auth (or / in server-refresh mode),
 * with Max-Age the token's remaining lifetime. @fastify/cookie is registered with its parsing hook
 * off, so only the routes that need the cookie pay for parsing it.
 *
 * The Set-Cookie line is written here rather than by @fastify/cookie: its attributes are fixed by
 * the configuration, and the value is always a base64url JWS (or empty), which needs no encoding.
 * That spares every refresh the generic serializer's validation and its onSend hook.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HushConfig } from '../config.js';

/** Cookie settings derived once from the configuration. */
export interface RefreshCookie {
  readonly name: string;
  /** Reads the refresh token from the request's cookies. */
  read(request: FastifyRequest): string | undefined;
  /** Sets the cookie to `token` for `maxAge` seconds. */
  set(reply: FastifyReply, token: string, maxAge: number): void;
  /** Clears the cookie (Max-Age=0). */
  clear(reply: FastifyReply): void;
}

/** A refresh token is a JWS: base64url segments and dots, and never longer than a few hundred bytes. */
const TOKEN_SHAPE = /^[A-Za-z0-9_.-]{1,4096}$/;

/** Builds the refresh cookie for `config`. */
export function refreshCookie(config: HushConfig): RefreshCookie {
  const name = config.cookieSecure ? '__Secure-hush-refresh' : 'hush-refresh';
  const attributes =
    `; Path=${config.serverRefresh ? '/' : '/auth'}; HttpOnly` +
    (config.cookieSecure ? '; Secure' : '') +
    `; SameSite=${config.cookieSameSite === 'strict' ? 'Strict' : 'Lax'}`;
  const setCookie = (reply: FastifyReply, value: string, maxAge: number): void => {
    if (!TOKEN_SHAPE.test(value) && value !== '') throw new TypeError('a refresh cookie value must be a JWS');
    if (!Number.isFinite(maxAge)) throw new TypeError('a refresh cookie needs a finite Max-Age');
    appendSetCookie(reply, `${name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAge))}${attributes}`);
  };
  return {
    name,
    read(request) {
      const header = request.headers.cookie;
      if (header === undefined) return undefined;
      let value: string | undefined;
      try {
        value = request.server.parseCookie(header)[name];
      } catch {
        return undefined;
      }
      return value !== undefined && TOKEN_SHAPE.test(value) ? value : undefined;
    },
    set(reply, token, maxAge) {
      setCookie(reply, token, maxAge);
    },
    clear(reply) {
      setCookie(reply, '', 0);
    },
  };
}

/** Adds a Set-Cookie line, keeping any the host application set on this reply, and replacing our own. */
function appendSetCookie(reply: FastifyReply, line: string): void {
  const existing = reply.getHeader('set-cookie');
  if (existing === undefined) {
    reply.header('set-cookie', line);
    return;
  }
  // Fastify appends to set-cookie: take the lines out, then put back all but an earlier one of ours.
  const name = line.slice(0, line.indexOf('=') + 1);
  const lines = (Array.isArray(existing) ? existing : [String(existing)]).filter((l) => !l.startsWith(name));
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...lines, line]);
}
