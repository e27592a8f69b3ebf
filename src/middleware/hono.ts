/**
 * `hush-auth/hono`: a verify-only guard for Hono resource services.
 *
 * ```ts
 * import { Hono } from 'hono';
 * import { hushAuth, type HushEnv } from 'hush-auth/hono';
 *
 * const app = new Hono<HushEnv>();
 * app.use('/api/*', hushAuth({ secret: process.env.HUSH_SECRET }));
 * app.get('/api/orders', (c) => c.json({ owner: c.get('user').id }));
 * ```
 */
import type { MiddlewareHandler } from 'hono';
import { createAuthenticator, GuardRejection, isPending, type HushGuardOptions, type HushUser } from './core.js';

export { GuardRejection, HushGuardOptionsError } from './core.js';
export type { AccessClaims, HushGuardOptions, HushUser, RevocationCheck } from './core.js';

/** The context variables a required guard sets: `c.get('user')` is the verified user. */
export interface HushVariables {
  user: HushUser;
}

/** The context variables an `optional` guard sets: `c.get('user')` is `null` for anonymous requests. */
export interface HushOptionalVariables {
  user: HushUser | null;
}

/** A Hono environment for apps whose routes use a required guard: `new Hono<HushEnv>()`. */
export interface HushEnv {
  Variables: HushVariables;
}

/** A Hono environment for apps whose routes use an `optional` guard. */
export interface HushOptionalEnv {
  Variables: HushOptionalVariables;
}

/**
 * Creates the hush guard as Hono middleware, checking `options` now (it throws a
 * HushGuardOptionsError at start-up rather than failing on the first request). A request with a valid
 * access token goes on with `c.get('user')` set; otherwise the middleware answers 401 (RFC 6750), or
 * 503 while a JWKS cannot be fetched.
 * @throws HushGuardOptionsError for invalid options
 */
export function hushAuth(options: HushGuardOptions & { optional: true }): MiddlewareHandler<HushOptionalEnv>;
export function hushAuth(options: HushGuardOptions & { optional?: false }): MiddlewareHandler<HushEnv>;
export function hushAuth(options: HushGuardOptions): MiddlewareHandler<HushOptionalEnv>;
export function hushAuth(options: HushGuardOptions): MiddlewareHandler<HushEnv> | MiddlewareHandler<HushOptionalEnv> {
  const authenticator = createAuthenticator(options);
  const guard: MiddlewareHandler<HushOptionalEnv> = async function hushGuard(c, next) {
    let outcome = authenticator.authenticate(c.req.header('authorization'));
    if (isPending(outcome)) outcome = await outcome;
    if (outcome instanceof GuardRejection) return c.body(outcome.body, outcome.status, outcome.headers);
    c.set('user', outcome);
    await next();
  };
  return guard;
}
