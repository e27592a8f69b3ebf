/**
 * The device cookie (the contract's Rate limits; OWASP's "device cookies"): `__Host-hush-device`
 * (`hush-device` when HUSH_COOKIE_SECURE=false), HttpOnly, Secure, SameSite as the refresh cookie,
 * `Path=/`, no `Domain`, one year. Its value is up to five entries made by the core's
 * DeviceTokens (src/core/device-tokens.ts); this module only carries the value between the browser
 * and the service.
 *
 * It reads the `Cookie` header itself rather than through @fastify/cookie: a value that appears
 * more than once (a sibling's tossed cookie, with the non-`__Host-` name) is ignored altogether,
 * and the service then throttles the attempt like any other.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HushConfig } from '../config.js';
import type { Grant, RequestContext } from '../core/service.js';
import { requestContext } from './context.js';

/** What the core's entries are made of: cookie-octets that need no encoding. */
const VALUE_SHAPE = /^[A-Za-z0-9_.~-]{1,1024}$/;

/** One year, in seconds: the cookie's Max-Age, renewed by every sign-in. */
export const DEVICE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60;

/** Device-cookie handling derived once from the configuration. */
export interface DeviceCookie {
  readonly name: string;
  /** The request's context for the core, with the device cookie's value. */
  context(request: FastifyRequest): RequestContext;
  /** After a completed sign-in: sets the cookie to the grant's value (call before the reply is sent). */
  set(reply: FastifyReply, grant: Grant): void;
}

/** Builds the device cookie for `config`. */
export function deviceCookie(config: HushConfig): DeviceCookie {
  const name = config.cookieSecure ? '__Host-hush-device' : 'hush-device';
  const attributes =
    `; Max-Age=${DEVICE_COOKIE_MAX_AGE}; Path=/; HttpOnly` +
    (config.cookieSecure ? '; Secure' : '') +
    `; SameSite=${config.cookieSameSite === 'strict' ? 'Strict' : 'Lax'}`;
  return {
    name,
    context(request) {
      return { ...requestContext(request), device: readOnce(request.headers.cookie, name) };
    },
    set(reply, grant) {
      if (grant.device === undefined) return;
      if (!VALUE_SHAPE.test(grant.device)) throw new TypeError('a device cookie value is entries of base64url, UUIDs, dots and tildes');
      // Fastify appends Set-Cookie lines: the refresh cookie's, set later, keeps this one.
      reply.header('set-cookie', `${name}=${grant.device}${attributes}`);
    },
  };
}

/** The value of cookie `name` in a `Cookie` header, or undefined when it is absent or appears more than once. */
export function readOnce(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let found: string | undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = pair.slice(eq + 1).trim();
  }
  return found;
}
