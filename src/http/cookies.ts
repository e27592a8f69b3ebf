/**
 * The refresh cookie: HttpOnly, Secure, SameSite, scoped to /auth (or / in server-refresh mode),
 * with Max-Age the token's remaining lifetime. @fastify/cookie is registered with its parsing hook
 * off, so only the routes that need the cookie pay for parsing it.
 */
import type { CookieSerializeOptions } from '@fastify/cookie';
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
  const options: CookieSerializeOptions = {
    path: config.serverRefresh ? '/' : '/auth',
    httpOnly: true,
    secure: config.cookieSecure,
    sameSite: config.cookieSameSite,
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
      reply.setCookie(name, token, { ...options, maxAge: Math.max(0, Math.floor(maxAge)) });
    },
    clear(reply) {
      reply.setCookie(name, '', { ...options, maxAge: 0 });
    },
  };
}
