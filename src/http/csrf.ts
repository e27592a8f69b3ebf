/**
 * CSRF defence for state-changing requests, per the contract: refuse cross-site fetch metadata and
 * foreign origins on every POST and DELETE, and demand `X-Requested-With` where the refresh cookie
 * is the credential. A custom header cannot be sent cross-origin without a CORS preflight, which
 * only allowed origins pass.
 */
import type { FastifyRequest } from 'fastify';
import { AuthError } from '../core/errors.js';
import type { OriginPolicy } from './origins.js';

const csrfFailed = (why: string): AuthError => new AuthError('csrf_failed', 403, why);

/** Throws 403 `csrf_failed` when a POST or DELETE comes from another site or a foreign origin. */
export function checkRequestOrigin(request: FastifyRequest, origins: OriginPolicy): void {
  const site = request.headers['sec-fetch-site'];
  // Header values are case-insensitive tokens (RFC 8941); browsers send lower case.
  if (site !== undefined && site.toLowerCase() === 'cross-site') throw csrfFailed('Cross-site requests are not allowed.');
  const origin = request.headers.origin;
  if (origin !== undefined && !origins.allows(origin, request)) throw csrfFailed('This origin is not allowed.');
}

/** Throws 403 `csrf_failed` unless the request carries `X-Requested-With` (any value). */
export function requireRequestedWith(request: FastifyRequest): void {
  if (request.headers['x-requested-with'] === undefined) {
    throw csrfFailed('The X-Requested-With header is required.');
  }
}
