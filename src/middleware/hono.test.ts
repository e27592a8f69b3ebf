import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { hushAuth, HushGuardOptionsError, type HushEnv, type HushUser } from './hono.js';
import { describeGuardOverHttp } from './test-contract.js';
import { hsKey, SECRET, sign } from './test-tokens.js';

describeGuardOverHttp('Hono', async ({ required, optional }) => {
  const app = new Hono();
  // Keeps Hono's default error handler from logging the deliberate 500 of the revocations test.
  app.onError((_error, c) => c.text('Internal Server Error', 500));
  app.get('/private', hushAuth(required as typeof required & { optional?: false }), (c) => {
    // Typed by the middleware: a required guard's user is never null.
    const user: HushUser = c.get('user');
    return c.json({ id: user.id, username: user.username, sid: user.claims.sid, roles: user.claims['roles'] });
  });
  app.get('/maybe', hushAuth(optional), (c) => {
    const user: HushUser | null = c.get('user');
    return c.json({ user: user ? { id: user.id, username: user.username } : null });
  });
  app.get('/public', (c) => c.json({ user: (c.var as Record<string, unknown>)['user'] ?? null }));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});

describe('hush-auth/hono hushAuth', () => {
  it('throws a HushGuardOptionsError at creation for bad options, before any request', () => {
    assert.throws(() => hushAuth({ secret: 'too-short' }), HushGuardOptionsError);
  });

  it('guards every route under a path with app.use', async () => {
    const app = new Hono<HushEnv>();
    app.use('/api/*', hushAuth({ secret: SECRET }));
    app.get('/api/me', (c) => c.json({ username: c.get('user').username }));
    app.get('/health', (c) => c.text('ok'));
    assert.equal((await app.request('/api/me')).status, 401);
    assert.equal((await app.request('/health')).status, 200);
    const ok = await app.request('/api/me', { headers: { authorization: `Bearer ${sign(hsKey())}` } });
    assert.deepEqual(await ok.json(), { username: 'ada' });
  });

  it('types the user of an optional guard as nullable (checked by tsc)', () => {
    const app = new Hono();
    app.get('/x', hushAuth({ secret: SECRET, optional: true }), (c) => {
      // @ts-expect-error an optional guard's user may be null
      const user: HushUser = c.get('user');
      return c.json({ user });
    });
    assert.ok(app);
  });
});
