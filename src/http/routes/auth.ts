/**
 * The /auth routes of CONTRACT.md. Bearer routes check the token in onRequest, before anything
 * else; CSRF checks run in preParsing; bodies are parsed only on the routes that take one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { HushConfig } from '../../config.js';
import { AuthError } from '../../core/errors.js';
import type { RequestLimiter } from '../../core/limits/index.js';
import type { AuthService, Grant } from '../../core/service.js';
import { requestContext } from '../context.js';
import { DUPLICATE_COOKIE_MESSAGE, type RefreshCookie } from '../cookies.js';
import { requireRequestedWith } from '../csrf.js';
import type { DeviceCookie } from '../device-cookie.js';
import { credentialsBody, errors, passwordBody, passwordChangeBody, sessionsBody, tokenBody, userBody } from '../schemas.js';

export interface AuthRouteOptions {
  readonly config: HushConfig;
  readonly service: AuthService;
  readonly cookie: RefreshCookie;
  /** The device cookie: read into the context of password checks, set by every completed sign-in. */
  readonly devices: DeviceCookie;
  readonly guard: onRequestHookHandler;
  /** Per-address request caps; undefined when rate limits are off. */
  readonly limiter: RequestLimiter | undefined;
}

/** The contract's body limit, for the routes without a body as for the others. */
const BODY_LIMIT = 16 * 1024;

const unsupportedMediaType = (): AuthError =>
  new AuthError('unsupported_media_type', 415, 'The body must be JSON (Content-Type: application/json).');

/** Requests with a body must say it is JSON, even when the body is empty. */
function requireJson(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  const type = request.headers['content-type'];
  const essence = type?.split(';', 1)[0]?.trim().toLowerCase();
  done(essence === 'application/json' ? undefined : unsupportedMediaType());
}

/** Sends a token response and sets the refresh cookie. */
export function sendGrant(reply: FastifyReply, cookie: RefreshCookie, grant: Grant, status = 200, migrate = false): FastifyReply {
  cookie.set(reply, grant.refreshToken, grant.refreshMaxAge, migrate);
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send({ access_token: grant.accessToken, token_type: 'Bearer', expires_in: grant.expiresIn, user: grant.user });
}

/**
 * The request's refresh cookie, undefined when there is none. A duplicated cookie is refused (401
 * `invalid_refresh_token`) and cleared at every path it may have been set at.
 */
export function readOrRefuse(cookie: RefreshCookie, request: FastifyRequest, reply: FastifyReply): { token: string; legacy: boolean } | undefined {
  const found = cookie.read(request);
  if (found.kind === 'token') return found;
  if (found.kind === 'none') return undefined;
  cookie.clearEverywhere(reply);
  throw new AuthError('invalid_refresh_token', 401, DUPLICATE_COOKIE_MESSAGE);
}

/** Registers the /auth routes on `app` (which is prefixed with /auth). */
export async function authRoutes(app: FastifyInstance, options: AuthRouteOptions): Promise<void> {
  const { service, cookie, devices, guard, limiter } = options;

  const limit = (bucket: 'auth' | 'refresh'): onRequestHookHandler[] =>
    limiter
      ? [
          async (request) => {
            const decision = await limiter.hit(bucket, request.ip);
            if (!decision.allowed) throw new AuthError('rate_limited', 429, 'Too many requests; try again later.', decision.retryAfter);
          },
        ]
      : [];

  // Routes that take a JSON body.
  await app.register(async (json) => {
    json.addHook('preValidation', requireJson);

    json.post<{ Body: { username: string; password: string } }>(
      '/signup',
      {
        onRequest: limit('auth'),
        schema: { summary: 'Create an account and start a session', body: credentialsBody, response: { 201: tokenBody, ...errors(400, 409, 413, 415, 429, 503) } },
      },
      async (request, reply) => {
        const grant = await service.signup(request.body.username, request.body.password, devices.context(request));
        devices.set(reply, grant);
        return sendGrant(reply, cookie, grant, 201);
      },
    );

    json.post<{ Body: { username: string; password: string } }>(
      '/login',
      {
        onRequest: limit('auth'),
        schema: { summary: 'Log in and start a session', body: credentialsBody, response: { 200: tokenBody, ...errors(400, 401, 403, 413, 415, 429, 503) } },
      },
      async (request, reply) => {
        const grant = await service.login(request.body.username, request.body.password, devices.context(request));
        devices.set(reply, grant);
        return sendGrant(reply, cookie, grant);
      },
    );

    json.post<{ Body: { currentPassword: string; newPassword: string } }>(
      '/password',
      {
        // Every route that checks a password shares the login/signup cap, after the token check.
        onRequest: [guard, ...limit('auth')],
        schema: { summary: 'Change the password; other sessions end', security: [{ bearer: [] }], body: passwordChangeBody, response: { 200: tokenBody, ...errors(400, 401, 403, 413, 415, 429, 503) } },
      },
      async (request, reply) => {
        const { currentPassword, newPassword } = request.body;
        const grant = await service.changePassword(request.auth!, currentPassword, newPassword, devices.context(request));
        devices.set(reply, grant);
        return sendGrant(reply, cookie, grant);
      },
    );

    json.delete<{ Body: { password: string } }>(
      '/me',
      {
        onRequest: [guard, ...limit('auth')],
        schema: { summary: 'Delete the account', security: [{ bearer: [] }], body: passwordBody, response: errors(400, 401, 403, 413, 415, 429, 503) },
      },
      async (request, reply) => {
        await service.deleteAccount(request.auth!, request.body.password, devices.context(request));
        cookie.clearWithLegacy(reply);
        return reply.code(204).header('cache-control', 'no-store').send();
      },
    );
  });

  // Routes without a body: whatever Content-Type and body arrive are ignored, but read only up to
  // 16 KiB like any body (past that, 413): an endless body must not hold a connection and a worker.
  await app.register(async (bodiless) => {
    bodiless.removeAllContentTypeParsers();
    bodiless.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, _body, done) => {
      done(null, undefined);
    });

    bodiless.post(
      '/refresh',
      {
        onRequest: limit('refresh'),
        schema: { summary: 'Exchange the refresh cookie for a new access token', response: { 200: tokenBody, ...errors(401, 403, 413, 429, 503) } },
      },
      async (request, reply) => {
        requireRequestedWith(request);
        const found = readOrRefuse(cookie, request, reply);
        try {
          if (found === undefined) throw new AuthError('invalid_refresh_token', 401, 'There is no session to refresh; sign in.');
          return sendGrant(reply, cookie, await service.refresh(found.token, requestContext(request)), 200, found.legacy);
        } catch (error) {
          if (error instanceof AuthError && error.code === 'invalid_refresh_token') {
            if (found?.legacy) cookie.clearWithLegacy(reply);
            else cookie.clear(reply);
          }
          throw error;
        }
      },
    );

    bodiless.post(
      '/logout',
      { schema: { summary: "End this browser's session", response: errors(401, 403, 413, 503) } },
      async (request, reply) => {
        requireRequestedWith(request);
        const found = readOrRefuse(cookie, request, reply);
        await service.logout(found?.token);
        // The pre-fix cookie goes too, whichever this browser still had.
        cookie.clearWithLegacy(reply);
        return reply.code(204).header('cache-control', 'no-store').send();
      },
    );

    bodiless.post(
      '/logout-all',
      { onRequest: guard, schema: { summary: 'End every session of the user', security: [{ bearer: [] }], response: errors(401, 403, 413, 503) } },
      async (request, reply) => {
        await service.logoutAll(request.auth!);
        cookie.clearWithLegacy(reply);
        return reply.code(204).header('cache-control', 'no-store').send();
      },
    );

    bodiless.get(
      '/me',
      { onRequest: guard, schema: { summary: 'The signed-in user', security: [{ bearer: [] }], response: { 200: { type: 'object', required: ['user'], properties: { user: userBody } }, ...errors(401, 503) } } },
      async (request, reply) => {
        const user = await service.me(request.auth!);
        return reply.header('cache-control', 'no-store').send({ user });
      },
    );

    bodiless.get(
      '/sessions',
      { onRequest: guard, schema: { summary: 'Live sessions of the user (rotating strategy)', security: [{ bearer: [] }], response: { 200: sessionsBody, ...errors(401, 404, 503) } } },
      async (request, reply) => {
        const sessions = await service.sessions(request.auth!);
        return reply.header('cache-control', 'no-store').send({ sessions });
      },
    );

    bodiless.delete<{ Params: { id: string } }>(
      '/sessions/:id',
      { onRequest: guard, schema: { summary: 'End one session and its access tokens (rotating strategy)', security: [{ bearer: [] }], params: { type: 'object', properties: { id: { type: 'string' } } }, response: errors(401, 403, 404, 413, 503) } },
      async (request, reply) => {
        await service.endSession(request.auth!, request.params.id);
        return reply.code(204).header('cache-control', 'no-store').send();
      },
    );
  });
}
