/**
 * The guard of the server's protected routes: a Bearer access token, verified without I/O, checked
 * against the revocation table; or, in server-refresh mode, a safe same-site GET carrying only the
 * refresh cookie.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessClaims } from '../core/access-tokens.js';
import { AuthError, InvalidTokenError, missingToken } from '../core/errors.js';
import type { RequestLimiter } from '../core/limits/index.js';
import type { AuthService } from '../core/service.js';
import { bearerCandidate, isB64Token } from '../middleware/bearer.js';
import { requestContext } from './context.js';
import { DUPLICATE_COOKIE_MESSAGE, type RefreshCookie } from './cookies.js';
import { BEARER_REALM } from './errors.js';
import type { OriginPolicy } from './origins.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access-token claims of a guarded route. */
    auth: AccessClaims | null;
  }
}

export interface GuardOptions {
  readonly service: AuthService;
  /** Server-side silent refresh; undefined when off. */
  readonly serverRefresh?: { readonly cookie: RefreshCookie; readonly origins: OriginPolicy } | undefined;
  /** Sends a token response's headers and cookie for a server-side refresh (`migrate`: the pre-fix cookie was used). */
  readonly onRefreshed?: (reply: FastifyReply, grant: Awaited<ReturnType<AuthService['refresh']>>, migrate: boolean) => void;
  /**
   * Per-address request caps: a server-side refresh is a refresh, counted in the `refresh` bucket
   * like `POST /auth/refresh`; undefined when rate limits are off.
   */
  readonly limiter?: RequestLimiter | undefined;
}

/** Whether a cookie-only request may be authorized by server-side refresh: a safe, same-site read. */
function mayRefreshOnServer(request: FastifyRequest, origins: OriginPolicy): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const site = request.headers['sec-fetch-site']?.toLowerCase();
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin !== undefined) return origins.allows(origin, request);
  return request.headers['x-requested-with'] !== undefined;
}

/** Builds the onRequest hook that guards a route. */
export function createGuard(options: GuardOptions) {
  const { service, serverRefresh, limiter } = options;

  async function refreshOnServer(request: FastifyRequest, reply: FastifyReply): Promise<AccessClaims | undefined> {
    if (!serverRefresh || !mayRefreshOnServer(request, serverRefresh.origins)) return undefined;
    const found = serverRefresh.cookie.read(request);
    if (found.kind === 'none') return undefined;
    if (found.kind === 'duplicate') {
      // Either value may be someone else's: use neither, and clear what this host can clear.
      serverRefresh.cookie.clearEverywhere(reply);
      reply.header('www-authenticate', BEARER_REALM);
      throw new AuthError('invalid_refresh_token', 401, DUPLICATE_COOKIE_MESSAGE);
    }
    if (limiter) {
      // Throttled, not unauthenticated: a 429 with Retry-After, as POST /auth/refresh would answer.
      const decision = await limiter.hit('refresh', request.ip);
      if (!decision.allowed) throw new AuthError('rate_limited', 429, 'Too many requests; try again later.', decision.retryAfter);
    }
    try {
      const grant = await service.refresh(found.token, requestContext(request));
      options.onRefreshed?.(reply, grant, found.legacy);
      reply.header('x-access-token', grant.accessToken);
      return service.authenticate(grant.accessToken);
    } catch {
      // A dead cookie changes nothing: the request gets the 401 it would have had.
      return undefined;
    }
  }

  async function slowPath(request: FastifyRequest, reply: FastifyReply, failure: unknown): Promise<void> {
    const claims = await refreshOnServer(request, reply);
    if (!claims) throw failure;
    request.auth = claims;
  }

  // Callback style so that the common case — a valid token — settles without a promise.
  return function guard(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    // The header's exact syntax is checked only when verification fails: a token that verifies is
    // base64url and dots, which RFC 6750 allows. A malformed header counts as no token at all.
    const candidate = bearerCandidate(request.headers.authorization);
    let failure: Error;
    if (candidate === undefined) {
      failure = missingToken();
    } else {
      try {
        request.auth = service.authenticate(candidate);
        done();
        return;
      } catch (error) {
        failure = isB64Token(candidate) ? (error as Error) : missingToken();
        if (!(error instanceof InvalidTokenError && error.problem === 'expired')) {
          done(failure);
          return;
        }
      }
    }
    if (!serverRefresh) {
      done(failure);
      return;
    }
    slowPath(request, reply, failure).then(() => done(), done);
  };
}
