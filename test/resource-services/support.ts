/**
 * Resource services for the tests in this folder: an Express 5, a Hono (@hono/node-server) and a
 * Fastify app, each on a real port, each guarding `GET /orders` with hush's guard for its framework —
 * configured, like a real resource service, with nothing but the shared secret or the JWKS URL.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { hushAuth as expressGuard } from '../../src/middleware/express.js';
import { hushAuth as fastifyGuard } from '../../src/middleware/fastify.js';
import { hushAuth as honoGuard, type HushEnv } from '../../src/middleware/hono.js';
import type { HushGuardOptions } from '../../src/middleware/core.js';
import type { TestServer } from '../helpers/server.js';

/** One running resource app. */
export interface ResourceApp {
  readonly framework: 'Express' | 'Hono' | 'Fastify';
  /** URL of its guarded route. */
  readonly url: string;
}

/** The three apps, guarded with the same options. */
export interface ResourceApps {
  readonly apps: readonly ResourceApp[];
  close(): Promise<void>;
}

/** What every app answers on `GET /orders` for an authenticated user. */
function orders(framework: string, user: { id: string; username: string }): unknown {
  return { service: framework, user: { id: user.id, username: user.username } };
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Starts the Express, Hono and Fastify apps, all guarded by hush with `options`. */
export async function startResourceApps(options: HushGuardOptions): Promise<ResourceApps> {
  const expressApp = express();
  expressApp.get('/orders', expressGuard(options), (req, res) => {
    res.json(orders('Express', req.user!));
  });
  const expressServer = await new Promise<Server>((resolve) => {
    const s = expressApp.listen(0, '127.0.0.1', () => resolve(s));
  });

  const honoApp = new Hono<HushEnv>();
  honoApp.get('/orders', honoGuard(options as HushGuardOptions & { optional?: false }), (c) => c.json(orders('Hono', c.get('user'))));
  const honoServer = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: honoApp.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });

  const fastifyApp = Fastify();
  await fastifyApp.register(fastifyGuard, options);
  fastifyApp.get('/orders', async (request) => orders('Fastify', request.user!));
  const fastifyUrl = await fastifyApp.listen({ port: 0, host: '127.0.0.1' });

  return {
    apps: [
      { framework: 'Express', url: `http://127.0.0.1:${portOf(expressServer)}/orders` },
      { framework: 'Hono', url: `http://127.0.0.1:${portOf(honoServer)}/orders` },
      { framework: 'Fastify', url: `${fastifyUrl}/orders` },
    ],
    close: async () => {
      await Promise.all([closeServer(expressServer), closeServer(honoServer), fastifyApp.close()]);
    },
  };
}

/** What signing up through the server's HTTP API gives a client. */
export interface Session {
  readonly accessToken: string;
  /** The refresh token, read from the refresh cookie (only to show it is no access token). */
  readonly refreshToken: string;
  readonly user: { readonly id: string; readonly username: string };
}

let counter = 0;

/** Signs a new user up on `server` over HTTP. */
export async function signup(server: TestServer): Promise<Session> {
  const username = `user${process.pid}-${++counter}`;
  const response = await fetch(`${server.url}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'correct horse battery staple' }),
  });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  const body = JSON.parse(text) as { access_token: string; user: { id: string; username: string } };
  const cookie = response.headers.getSetCookie().find((c) => /^(__Host-)?hush-refresh=/.test(c));
  assert.ok(cookie, 'signup sets the refresh cookie');
  const refreshToken = cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf(';'));
  assert.deepEqual(body.user.username, username);
  return { accessToken: body.access_token, refreshToken, user: body.user };
}

/** Calls a resource app with `Authorization: Bearer <token>` (no header when token is undefined). */
export async function callWith(url: string, token: string | undefined): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** Asserts every app refuses `token` with the contract's 401 `invalid_token` answer (and `description`, when given). */
export async function assertEveryAppRefuses(apps: ResourceApps, token: string, description?: string): Promise<void> {
  for (const app of apps.apps) {
    const response = await callWith(app.url, token);
    assert.equal(response.status, 401, `${app.framework}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body['error'], 'invalid_token', app.framework);
    if (description !== undefined) assert.equal(response.body['error_description'], description, app.framework);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="hush", error="invalid_token"', app.framework);
  }
}

/** Asserts every app accepts `token` as `user`'s. */
export async function assertEveryAppAccepts(apps: ResourceApps, token: string, user: Session['user']): Promise<void> {
  for (const app of apps.apps) {
    const response = await callWith(app.url, token);
    assert.equal(response.status, 200, `${app.framework}: ${JSON.stringify(response.body)}`);
    assert.deepEqual(response.body, { service: app.framework, user: { id: user.id, username: user.username } });
  }
}

/** The token with its payload re-encoded with `changes` and the original signature. */
export function tamper(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${signature}`;
}

/** The token with one character of its signature changed (to another base64url character). */
export function flipSignature(token: string): string {
  const i = token.lastIndexOf('.') + 5;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

/** The decoded (unverified) payload of a token. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}
