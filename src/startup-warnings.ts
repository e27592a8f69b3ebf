/**
 * Start-up warnings: configurations that run, but fail in a way a developer cannot see from the
 * server (the browser quietly drops a cookie, say). Every warning `hush start` prints is decided
 * here, from the configuration alone, so that they are found, tested and extended in one place.
 */
import type { HushConfig } from './config.js';
import { crossSiteOrigins, isLoopback, originWarnings } from './http/origins.js';

/** One warning: the setting to look at, and what goes wrong (never a secret). */
export interface StartupWarning {
  /** The environment variable the warning is about. */
  readonly setting: string;
  readonly message: string;
}

/** Whether `host` (a `HOST` value) is reachable only from this machine: a loopback name or address, or `*.localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return isLoopback(h) || h.endsWith('.localhost');
}

/** The warnings `config` deserves at start, in a stable order. */
export function startupWarnings(config: HushConfig): StartupWarning[] {
  const warnings: StartupWarning[] = [];
  // Browsers keep a Secure cookie only from https (and from http://localhost). Off loopback over
  // plain http, the refresh cookie is dropped: every reload signs the user out, with no error.
  if (!isLoopbackHost(config.host) && config.cookieSecure && !config.publicOrigin?.startsWith('https:')) {
    warnings.push({
      setting: 'HUSH_PUBLIC_ORIGIN',
      message:
        `HOST=${config.host} serves other machines, but the refresh cookie is Secure and no https HUSH_PUBLIC_ORIGIN is set: ` +
        'a browser reaching this server over plain http drops the cookie, so users are signed out on every reload. ' +
        'Serve it over https and set HUSH_PUBLIC_ORIGIN=https://…, or, for plain-http development only, set HUSH_COOKIE_SECURE=false',
    });
  }
  for (const origin of crossSiteOrigins(config)) {
    warnings.push({
      setting: 'HUSH_ALLOWED_ORIGINS',
      message: `HUSH_ALLOWED_ORIGINS lists ${origin}, which is not same-site with HUSH_PUBLIC_ORIGIN: the SameSite refresh cookie will not reach it`,
    });
  }
  warnings.push(...originWarnings(config));
  return warnings;
}
