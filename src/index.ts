/**
 * hush, used as a library: build the server in your own process.
 *
 * ```ts
 * import { createHush, loadConfig } from 'hush-auth';
 * const hush = await createHush(loadConfig(process.env), { claims: (user) => ({ roles: ['reader'] }) });
 * await hush.app.listen({ port: 3000 });
 * ```
 */
export { createHush, openCore, type Hush, type HushOptions } from './server.js';
export { loadConfig, parseDuration, ConfigError, type HushConfig, type Env } from './config.js';
export { buildApp, type AppOptions } from './http/app.js';
export { AuthService, type Grant, type PublicUser, type RequestContext, type AuthEvent } from './core/service.js';
export { AuthError, type AuthErrorCode } from './core/errors.js';
export type { AccessClaims, ClaimsHook } from './core/access-tokens.js';
