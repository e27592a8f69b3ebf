/**
 * `hush-auth/express`: a verify-only guard for Express 5 resource services.
 *
 * ```ts
 * import express from 'express';
 * import { hushAuth } from 'hush-auth/express';
 *
 * const app = express();
 * app.get('/orders', hushAuth({ secret: process.env.HUSH_SECRET }), (req, res) => {
 *   res.json({ owner: req.user!.id });
 * });
 * ```
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createAuthenticator, GuardRejection, isPending, type GuardOutcome, type HushGuardOptions, type HushUser } from './core.js';

export { GuardRejection, HushGuardOptionsError } from './core.js';
export type { AccessClaims, HushGuardOptions, HushUser, RevocationCheck } from './core.js';

// Passport's shape (`Express.User`, `user?: User`), so that both type packages can live in one project.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's types are merged through this global namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging: the user is a HushUser
    interface User extends HushUser {}
    interface Request {
      /** The user of the verified access token (hush guard); undefined when anonymous or unguarded. */
      user?: User;
    }
  }
}

function settle(req: Request, res: Response, next: NextFunction, outcome: GuardOutcome): void {
  if (outcome instanceof GuardRejection) {
    res.status(outcome.status).set(outcome.headers).send(outcome.body);
    return;
  }
  req.user = outcome ?? undefined;
  next();
}

/**
 * Creates the hush guard as Express middleware, checking `options` now (it throws a
 * HushGuardOptionsError at start-up rather than failing on the first request). A request with a valid
 * access token goes on with `req.user` set; otherwise the middleware answers 401 (RFC 6750), or 503
 * while a JWKS cannot be fetched. Use it on an app, a router or single routes.
 * @throws HushGuardOptionsError for invalid options
 */
export function hushAuth(options: HushGuardOptions): RequestHandler {
  const authenticator = createAuthenticator(options);
  return function hushGuard(req, res, next): void {
    let outcome: GuardOutcome | Promise<GuardOutcome>;
    try {
      outcome = authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      next(error);
      return;
    }
    if (isPending(outcome)) {
      outcome.then((settled) => settle(req, res, next, settled), next);
      return;
    }
    settle(req, res, next, outcome);
  };
}
