/** What the core needs to know about who is asking. */
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../core/service.js';

/** The request's context for the core: the client address (as trusted proxies report it) and user agent. */
export function requestContext(request: FastifyRequest): RequestContext {
  return { address: request.ip, userAgent: request.headers['user-agent'] };
}
