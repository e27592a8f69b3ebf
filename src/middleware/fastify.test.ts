import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { hushAuth, HushGuardOptionsError } from './fastify.js';
import { describeGuardOverHttp } from './test-contract.js';
import { hsKey, SECRET, sign } from './test-tokens.js';

describeGuardOverHttp('Fastify', async ({ required, optional }) => {
  const app = Fastify();
  app.get('/public', async (request) => ({ user: request.user ?? null }));
  await app.register(async (scope) => {
    await scope.register(hushAuth, required);
    scope.get('/private', async (request) => {
      const user = request.user!;
      return { id: user.id, username: user.username, sid: user.claims.sid, roles: user.claims['roles'] };
    });
  });
  await app.register(async (scope) => {
    await scope.register(hushAuth, optional);
    scope.get('/maybe', async (request) => ({ user: request.user ? { id: request.user.id, username: request.user.username } : null }));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});

describe('hush-auth/fastify hushAuth', () => {
  it('fails registration with a HushGuardOptionsError for bad options', async () => {
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(hushAuth, { secret: 'too-short' });
    }, HushGuardOptionsError);
    await app.close().catch(() => undefined);
  });

  it('registered at the root, guards every route and shares its scope (no encapsulation of its own)', async () => {
    const app = Fastify();
    await app.register(hushAuth, { secret: SECRET });
    app.get('/a', async (request) => ({ user: request.user?.username }));
    assert.equal(app.hasRequestDecorator('user'), true, 'the decorator is visible in the scope that registered it');
    const missing = await app.inject({ url: '/a' });
    assert.equal(missing.statusCode, 401);
    const ok = await app.inject({ url: '/a', headers: { authorization: `Bearer ${sign(hsKey())}` } });
    assert.deepEqual(ok.json(), { user: 'ada' });
    await app.close();
  });

  it('may be registered again in a nested scope with other options', async () => {
    const app = Fastify();
    await app.register(hushAuth, { secret: SECRET, optional: true });
    app.get('/open', async (request) => ({ user: request.user?.username ?? null }));
    await app.register(async (scope) => {
      await scope.register(hushAuth, { secret: SECRET });
      scope.get('/closed', async (request) => ({ user: request.user!.username }));
    });
    assert.deepEqual((await app.inject({ url: '/open' })).json(), { user: null });
    assert.equal((await app.inject({ url: '/closed' })).statusCode, 401);
    await app.close();
  });

  it('shows under its own name among the registered plugins', async () => {
    const app = Fastify();
    await app.register(hushAuth, { secret: SECRET });
    await app.ready();
    assert.match(app.printPlugins(), /hush-auth/);
    await app.close();
  });
});
