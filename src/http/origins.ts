/**
 * Which origins are this server's own and which apps are allowed. Used by the CSRF checks, by
 * CORS and by server-side refresh.
 */
import type { FastifyRequest } from 'fastify';
import type { HushConfig } from '../config.js';

/** Origin policy derived once from the configuration. */
export interface OriginPolicy {
  /**
   * The origin browsers use to reach this server, for this request: HUSH_PUBLIC_ORIGIN, or else
   * scheme + `Host` when the Host names this server; undefined when it names some other host.
   */
  own(request: FastifyRequest): string | undefined;
  /** Whether `origin` (an `Origin` header value) is this server's or an allowed app's. */
  allows(origin: string, request: FastifyRequest): boolean;
}

/** Builds the origin policy for `config`. */
export function originPolicy(config: HushConfig): OriginPolicy {
  const allowed = new Set(config.allowedOrigins);
  const fixed = config.publicOrigin;
  const hosts = ownHostnames(config);
  // Without HUSH_PUBLIC_ORIGIN the Host header says who we are, but a DNS-rebinding page (its own
  // name, now resolving to this server) sends its own Host and Origin alike: only names this
  // server is configured for count.
  const own = (request: FastifyRequest): string | undefined =>
    fixed ?? (isOwnHostname(request.hostname, hosts) ? `${request.protocol}://${request.host}` : undefined);
  return {
    own,
    allows(origin, request) {
      return origin !== 'null' && (allowed.has(origin) || origin === own(request));
    },
  };
}

/** Host names that are this server's: HOST, localhost, the public origin's host (loopback addresses are always). */
function ownHostnames(config: HushConfig): Set<string> {
  const hosts = new Set(['localhost']);
  hosts.add(bareHostname(config.host));
  if (config.publicOrigin) hosts.add(bareHostname(new URL(config.publicOrigin).hostname));
  return hosts;
}

/** A hostname without IPv6 brackets, lower-cased. */
function bareHostname(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function isOwnHostname(hostname: string, hosts: ReadonlySet<string>): boolean {
  const bare = bareHostname(hostname);
  return hosts.has(bare) || isLoopback(bare);
}

/** Whether `hostname` (no brackets) is a loopback name or address: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(hostname: string): boolean {
  const bare = bareHostname(hostname);
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
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

/**
 * Start-up warnings about origins and cookies that weaken the CSRF or cookie defences:
 * serving off loopback without HUSH_PUBLIC_ORIGIN, `http:` allowed origins (other than loopback),
 * and the unprefixed cookie of HUSH_COOKIE_SECURE=false.
 */
export function originWarnings(config: HushConfig): { readonly setting: string; readonly message: string }[] {
  const warnings: { setting: string; message: string }[] = [];
  if (!config.publicOrigin && !isLoopback(config.host)) {
    warnings.push({
      setting: 'HUSH_PUBLIC_ORIGIN',
      message: `listening on ${config.host} without HUSH_PUBLIC_ORIGIN: only requests whose Host is ${config.host}, localhost or a loopback address pass the CSRF origin check; set HUSH_PUBLIC_ORIGIN to the origin browsers use`,
    });
  }
  for (const origin of config.allowedOrigins) {
    if (origin.startsWith('http:') && !isLoopback(new URL(origin).hostname)) {
      warnings.push({ setting: 'HUSH_ALLOWED_ORIGINS', message: `HUSH_ALLOWED_ORIGINS lists ${origin}, a plain-http origin: anyone on its network path can act as that app` });
    }
  }
  if (!config.cookieSecure) {
    warnings.push({ setting: 'HUSH_COOKIE_SECURE', message: 'HUSH_COOKIE_SECURE=false: the refresh cookie is hush-refresh, without the __Host- prefix, so a sibling subdomain could set or shadow it (development only)' });
  }
  return warnings;
}
