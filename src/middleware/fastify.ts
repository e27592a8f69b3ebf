/**
 * `hush-auth/fastify`: a verify-only guard for Fastify resource services.
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { hushAuth } from 'hush-auth/fastify';
 *
 * const app = Fastify();
 * await app.register(hushAuth, { secret: process.env.HUSH_SECRET });
 * app.get('/orders', async (request) => ({ owner: request.user!.id }));
 * ```
 *
 * The plugin does not open a scope of its own (like a `fastify-plugin` plugin), so it guards every
 * route of the scope it is registered in: register it at the root to guard the whole app, or inside a
 * `register`ed child to guard only that child's routes.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { createAuthenticator, GuardRejection, isPending, type GuardOutcome, type HushGuardOptions, type HushUser } from './core.js';

export { GuardRejection, HushGuardOptionsError } from './core.js';
export type { AccessClaims, HushGuardOptions, HushUser, RevocationCheck } from './core.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The user of the verified access token (hush guard). `null` for an anonymous request on an
     * `optional` guard, and on routes outside the guard's scope.
     */
    user: HushUser | null;
  }
}

function settle(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, outcome: GuardOutcome): void {
  if (outcome instanceof GuardRejection) {
    // Replying without calling `done` ends the hook chain: the handler never runs.
    reply.code(outcome.status).headers(outcome.headers).send(outcome.body);
    return;
  }
  request.user = outcome;
  done();
}

/**
 * The hush guard as a Fastify plugin: `app.register(hushAuth, options)`. Options are checked when the
 * plugin loads (so `register`/`ready` fails at start-up on a bad option, with a HushGuardOptionsError).
 * It decorates `request.user` and adds an `onRequest` hook that lets a request with a valid access
 * token through with `request.user` set, and answers 401 (RFC 6750) otherwise; 503 while a JWKS
 * cannot be fetched. With `secret` the hook never creates a promise.
 */
export const hushAuth: FastifyPluginCallback<HushGuardOptions> = function hushAuth(fastify, options, done): void {
  let authenticator: ReturnType<typeof createAuthenticator>;
  try {
    authenticator = createAuthenticator(options);
  } catch (error) {
    done(error as Error);
    return;
  }
  // A nested scope may register the guard again (with other options); the decorator exists once.
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', null);
  fastify.addHook('onRequest', function hushGuard(request, reply, next): void {
    let outcome: GuardOutcome | Promise<GuardOutcome>;
    try {
      outcome = authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      next(error as Error);
      return;
    }
    if (isPending(outcome)) {
      outcome.then((settled) => settle(request, reply, next, settled), next);
      return;
    }
    settle(request, reply, next, outcome);
  });
  done();
};

// What `fastify-plugin` would set: no scope of its own, a name in errors and `printPlugins`, Fastify 5.
Object.assign(hushAuth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'hush-auth',
  [Symbol.for('plugin-meta')]: { name: 'hush-auth', fastify: '5.x' },
});
