/**
 * `hush-auth/client`: the browser client of a hush auth server. No dependencies, no Node built-ins.
 * @packageDocumentation
 */
export { createAuthClient } from './client.js';
export { AuthError } from './error.js';
export type { AuthClient, AuthClientOptions, AuthEvent, AuthState, AuthUser } from './types.js';
