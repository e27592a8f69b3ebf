/**
 * The guard of the server's protected routes: a Bearer access token, verified without I/O, checked
 * against the revocation table; or, in server-refresh mode, a safe same-site GET carrying only the
 * refresh cookie.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessClaims } from '../core/access-tokens.js';
import { InvalidTokenError, missingToken } from '../core/errors.js';
import type { AuthService } from '../core/service.js';
import type { RefreshCookie } from './cookies.js';
import type { OriginPolicy } from './origins.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access-token claims of a guarded route. */
    auth: AccessClaims | null;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of a `Bearer <token>` Authorization header (RFC 6750 syntax); anything else counts as no token. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return BEARER.exec(header)?.[1];
}

/**
 * The fast path's reading of the header: what follows `Bearer ` (any case), unchecked. Only when
 * verification fails does {@link bearerToken} decide between a malformed header (no token) and
 * a bad token — a valid token is of the RFC 6750 syntax anyway.
 */
function roughBearer(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8 || header.charCodeAt(6) !== 32) return undefined;
  const scheme = header.slice(0, 6);
  if (scheme !== 'Bearer' && scheme.toLowerCase() !== 'bearer') return undefined;
  return header.slice(7);
}

export interface GuardOptions {
  readonly service: AuthService;
  /** Server-side silent refresh; undefined when off. */
  readonly serverRefresh?: { readonly cookie: RefreshCookie; readonly origins: OriginPolicy } | undefined;
  /** Sends a token response's headers and cookie for a server-side refresh. */
  readonly onRefreshed?: (reply: FastifyReply, grant: Awaited<ReturnType<AuthService['refresh']>>) => void;
}

/** Whether a cookie-only request may be authorized by server-side refresh: a safe, same-site read. */
function mayRefreshOnServer(request: FastifyRequest, origins: OriginPolicy): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin !== undefined) return origins.allows(origin, request);
  return request.headers['x-requested-with'] !== undefined;
}

/** Builds the onRequest hook that guards a route. */
export function createGuard(options: GuardOptions) {
  const { service, serverRefresh } = options;

  async function refreshOnServer(request: FastifyRequest, reply: FastifyReply): Promise<AccessClaims | undefined> {
    if (!serverRefresh || !mayRefreshOnServer(request, serverRefresh.origins)) return undefined;
    const cookie = serverRefresh.cookie.read(request);
    if (cookie === undefined) return undefined;
    try {
      const grant = await service.refresh(cookie, { address: request.ip, userAgent: request.headers['user-agent'] });
      options.onRefreshed?.(reply, grant);
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
    const header = request.headers.authorization;
    const rough = roughBearer(header);
    if (rough !== undefined) {
      try {
        request.auth = service.authenticate(rough);
        done();
        return;
      } catch {
        // decided below, with the header's exact syntax
      }
    }
    const token = bearerToken(header);
    let failure: Error;
    if (token === undefined) {
      failure = missingToken();
    } else {
      try {
        request.auth = service.authenticate(token);
        done();
        return;
      } catch (error) {
        failure = error as Error;
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
