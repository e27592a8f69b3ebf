import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyReply } from 'fastify';
import { loadConfig } from '../config.js';
import { refreshCookie } from './cookies.js';

const JWS = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';

/** The Set-Cookie lines of a reply whose handler runs `handle`. */
async function setCookieLines(env: Record<string, string>, handle: (reply: FastifyReply, cookie: ReturnType<typeof refreshCookie>) => void): Promise<string[]> {
  const cookie = refreshCookie(loadConfig(env));
  const app = Fastify();
  app.get('/', async (_request, reply) => {
    handle(reply, cookie);
    return 'ok';
  });
  const response = await app.inject({ method: 'GET', url: '/' });
  await app.close();
  const header = response.headers['set-cookie'];
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

describe('the refresh cookie', () => {
  it('is written with exactly the contract’s attributes, Max-Age in whole seconds', async () => {
    assert.deepEqual(await setCookieLines({}, (reply, c) => c.set(reply, JWS, 2_592_000.9)), [
      `__Secure-hush-refresh=${JWS}; Max-Age=2592000; Path=/auth; HttpOnly; Secure; SameSite=Strict`,
    ]);
  });

  it('follows the configuration: no Secure (and no __Secure- prefix), SameSite=Lax, Path=/ in server-refresh mode', async () => {
    const env = { HUSH_COOKIE_SECURE: 'false', HUSH_COOKIE_SAMESITE: 'lax', HUSH_SERVER_REFRESH: 'on' };
    assert.deepEqual(await setCookieLines(env, (reply, c) => c.set(reply, JWS, 60)), [
      `hush-refresh=${JWS}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`,
    ]);
  });

  it('is cleared with an empty value and Max-Age=0', async () => {
    assert.deepEqual(await setCookieLines({}, (reply, c) => c.clear(reply)), [
      '__Secure-hush-refresh=; Max-Age=0; Path=/auth; HttpOnly; Secure; SameSite=Strict',
    ]);
  });

  it('keeps the host application’s cookies on the same reply, and replaces an earlier line of its own', async () => {
    const lines = await setCookieLines({}, (reply, c) => {
      reply.header('set-cookie', 'app=1; Path=/');
      c.set(reply, JWS, 60);
      c.clear(reply);
    });
    assert.deepEqual(lines, ['app=1; Path=/', '__Secure-hush-refresh=; Max-Age=0; Path=/auth; HttpOnly; Secure; SameSite=Strict']);
  });

  it('refuses a value that is not a JWS, or a Max-Age that is not finite, rather than write it into a header', async () => {
    const cookie = refreshCookie(loadConfig({}));
    const app = Fastify();
    app.get('/', async (_request, reply) => {
      assert.throws(() => cookie.set(reply, 'x; Domain=evil.example', 60), /must be a JWS/);
      assert.throws(() => cookie.set(reply, 'a\r\nSet-Cookie: b=1', 60), /must be a JWS/);
      assert.throws(() => cookie.set(reply, JWS, Number.NaN), /finite Max-Age/);
      assert.throws(() => cookie.set(reply, JWS, Number.POSITIVE_INFINITY), /finite Max-Age/);
      return 'ok';
    });
    assert.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 200);
    await app.close();
  });
});
