/**
 * The Fastify application: the contract's HTTP surface over an {@link AuthService}.
 * Build it with {@link buildApp}; `src/server.ts` wires the dependencies and listens.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type preParsingHookHandler } from 'fastify';
import type { HushConfig } from '../config.js';
import { AuthError } from '../core/errors.js';
import type { RequestLimiter } from '../core/limits/index.js';
import type { AuthService } from '../core/service.js';
import type { SigningKeys } from '../core/keys.js';
import type { Store } from '../store/types.js';
import { refreshCookie } from './cookies.js';
import { checkRequestOrigin } from './csrf.js';
import { deviceCookie } from './device-cookie.js';
import { clientErrorHandler, createErrorHandler, sendAuthError } from './errors.js';
import type { Logger } from './log.js';
import { createGuard } from './guard.js';
import type { Metrics } from './metrics.js';
import { collectOpenApi } from './openapi.js';
import { originPolicy } from './origins.js';
import { authRoutes } from './routes/auth.js';
import { jwksBody, privateBody, statusBody } from './schemas.js';

export interface AppOptions {
  readonly config: HushConfig;
  readonly service: AuthService;
  readonly store: Store;
  /** The signing keys, whose public half the JWKS route publishes (they change on rotation). */
  readonly keys: SigningKeys;
  readonly limiter?: RequestLimiter | undefined;
  /** Request metrics; undefined when metrics are off. */
  readonly metrics?: Metrics | undefined;
  /** Where errors and warnings go (see log.ts). */
  readonly log: Logger;
}

const BODY_LIMIT = 16 * 1024;
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Builds the hush Fastify app (not yet listening). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, service, store, keys } = options;
  const app = Fastify({
    // hush logs through its own logger (log.ts); a Fastify logger would cost every request a child logger.
    logger: false,
    bodyLimit: BODY_LIMIT,
    trustProxy: trustProxyOption(config.trustProxy),
    // Malformed URLs (`/auth/%zz`) get the contract's error, not Fastify's (which echoes the path).
    frameworkErrors: (_error, _request, reply) => {
      sendAuthError(reply, new AuthError('invalid_request', 400, 'The request URL is malformed.'));
    },
    // What the HTTP parser refuses (headers over 16 KiB: 431) answers in the contract's error format too.
    clientErrorHandler,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const cookie = refreshCookie(config);
  const origins = originPolicy(config);
  const openapi = collectOpenApi(app, { title: 'hush', version: '0.1.0' });
  const allowedOrigins = new Set(config.allowedOrigins);

  // Only JSON bodies exist here; Fastify would otherwise accept text/plain.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(createErrorHandler(options.log));
  options.metrics?.instrument(app);
  app.setNotFoundHandler((_request, reply) => sendAuthError(reply, new AuthError('not_found', 404, 'No such route.')));

  // The plugin is here for parseCookie only (on demand: hook off; cookies.ts writes Set-Cookie
  // itself): around /auth, or everywhere in server-refresh mode, which reads the cookie on any
  // guarded route.
  if (config.serverRefresh) await app.register(fastifyCookie, { hook: false });
  // Without allowed origins CORS has nothing to answer: no hook at all on the request path.
  if (allowedOrigins.size > 0) {
    await app.register(fastifyCors, {
      // Anything but an allowed origin gets no CORS headers at all (not even the static ones).
      origin: (origin: string | undefined, callback: (error: Error | null, allow: string | false) => void) =>
        callback(null, origin !== undefined && allowedOrigins.has(origin) ? origin : false),
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With'],
      exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'x-access-token'],
      maxAge: 600,
    });
  }
  app.decorateRequest('auth', null);
  // The origin checks guard every POST and DELETE, and run on those routes only (a GET pays
  // nothing). preParsing: after a Bearer route's token check (onRequest), before the body is read.
  const csrf: preParsingHookHandler = (request, _reply, payload, done) => {
    try {
      checkRequestOrigin(request, origins);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, payload);
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST') && !methods.includes('DELETE')) return;
    const existing = route.preParsing === undefined ? [] : Array.isArray(route.preParsing) ? route.preParsing : [route.preParsing];
    route.preParsing = [csrf, ...existing];
  });

  const guard = createGuard({
    service,
    serverRefresh: config.serverRefresh ? { cookie, origins } : undefined,
    limiter: options.limiter,
    onRefreshed: (reply, grant, migrate) => {
      cookie.set(reply, grant.refreshToken, grant.refreshMaxAge, migrate);
      reply.header('cache-control', 'no-store');
    },
  });

  await app.register(
    async (auth) => {
      if (!config.serverRefresh) await auth.register(fastifyCookie, { hook: false });
      await auth.register(authRoutes, { config, service, cookie, devices: deviceCookie(config), guard, limiter: options.limiter });
    },
    { prefix: '/auth' },
  );

  app.get(
    '/api/private',
    { onRequest: guard, schema: { summary: "The demo's protected resource, answered from the token alone", security: [{ bearer: [] }], response: { 200: privateBody } } },
    (request, reply) => {
      const claims = request.auth!;
      reply.header('cache-control', 'no-store').send({
        message: `Hello, ${claims.preferred_username}. This answer was authorized by your access token alone.`,
        user: { id: claims.sub, username: claims.preferred_username },
      });
    },
  );

  app.get('/healthz', { schema: { summary: 'Liveness', response: { 200: statusBody } } }, (_request, reply) => {
    reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });

  app.get('/readyz', { schema: { summary: 'Readiness: the database answers', response: { 200: statusBody, 503: statusBody } } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      await withTimeout(store.ping(), 2000);
      return reply.send({ status: 'ok' });
    } catch {
      return reply.code(503).header('retry-after', '2').send({ status: 'unavailable' });
    }
  });

  app.get('/.well-known/jwks.json', { schema: { summary: 'Public signing keys (empty for HS256)', response: { 200: jwksBody } } }, (_request, reply) => {
    // A new key is published two minutes before it signs: caches must look again sooner than that.
    reply.header('cache-control', 'public, max-age=60').send(keys.jwks());
  });

  app.get('/openapi.json', (_request, reply) => {
    reply.send(openapi());
  });

  await registerStatic(app, config.demo);
  return app;
}

/**
 * Fastify's trustProxy for HUSH_TRUST_PROXY. A hop count becomes a trust function: Fastify 5 refuses
 * a bare number (it would fail closed and believe no proxy at all).
 */
function trustProxyOption(trust: HushConfig['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

/**
 * Serves the browser client bundle at /assets/hush-client.js (always: apps without a bundler load it from
 * there) and, when `demo` is on, the demo page at /.
 */
async function registerStatic(app: FastifyInstance, demo: boolean): Promise<void> {
  const demoRoot = `${packageRoot}demo`;
  const clientRoot = `${packageRoot}dist/client`;
  const securityHeaders = (res: { header(name: string, value: string): unknown }): void => {
    res.header('x-content-type-options', 'nosniff');
    res.header('referrer-policy', 'no-referrer');
    res.header('x-frame-options', 'DENY');
    res.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  };
  if (demo && existsSync(demoRoot)) {
    await app.register(fastifyStatic, { root: demoRoot, prefix: '/', index: 'index.html', setHeaders: securityHeaders, wildcard: false });
  }
  if (existsSync(clientRoot)) {
    await app.register(fastifyStatic, { root: clientRoot, prefix: '/assets/', decorateReply: false, setHeaders: securityHeaders, wildcard: false });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
