/**
 * Which origins are this server's own and which apps are allowed. Used by the CSRF checks, by
 * CORS and by server-side refresh.
 */
import type { FastifyRequest } from 'fastify';
import type { HushConfig } from '../config.js';

/** Origin policy derived once from the configuration. */
export interface OriginPolicy {
  /** The origin browsers use to reach this server, for this request. */
  own(request: FastifyRequest): string;
  /** Whether `origin` (an `Origin` header value) is this server's or an allowed app's. */
  allows(origin: string, request: FastifyRequest): boolean;
}

/** Builds the origin policy for `config`. */
export function originPolicy(config: HushConfig): OriginPolicy {
  const allowed = new Set(config.allowedOrigins);
  const fixed = config.publicOrigin;
  const own = (request: FastifyRequest): string => fixed ?? `${request.protocol}://${request.host}`;
  return {
    own,
    allows(origin, request) {
      return origin !== 'null' && (allowed.has(origin) || origin === own(request));
    },
  };
}

/** The site of a host: its last two labels (IP addresses and single labels as they are). */
function siteOf(hostname: string): string {
  if (/^[\d.]+$/.test(hostname) || hostname.includes(':')) return hostname;
  const labels = hostname.split('.');
  return labels.slice(-2).join('.');
}

/**
 * Allowed origins that are not same-site with the server: the SameSite refresh cookie will not be
 * sent from them. A heuristic (no public-suffix list), used only for a start-up warning.
 */
export function crossSiteOrigins(config: HushConfig): string[] {
  if (!config.publicOrigin) return [];
  const server = siteOf(new URL(config.publicOrigin).hostname);
  return config.allowedOrigins.filter((origin) => siteOf(new URL(origin).hostname) !== server);
}
