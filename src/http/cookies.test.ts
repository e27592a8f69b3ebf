import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { ConfigError, loadConfig } from '../config.js';
import { refreshCookie, type CookieRead } from './cookies.js';

const JWS = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
const OTHER = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2In0.b3RoZXJzaWdu';
const SECURE = 'HttpOnly; Secure; SameSite=Strict';

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

/** What the cookie reads from a request with this `Cookie` header. */
function readFrom(header: string | undefined, env: Record<string, string> = {}): CookieRead {
  const request = { headers: header === undefined ? {} : { cookie: header } } as unknown as FastifyRequest;
  return refreshCookie(loadConfig(env)).read(request);
}

describe('the refresh cookie', () => {
  it('is written with exactly the contract’s attributes: __Host- name, Path=/, no Domain, Max-Age in whole seconds', async () => {
    assert.deepEqual(await setCookieLines({}, (reply, c) => c.set(reply, JWS, 2_592_000.9)), [
      `__Host-hush-refresh=${JWS}; Max-Age=2592000; Path=/; ${SECURE}`,
    ]);
  });

  it('keeps Path=/ in server-refresh mode too', async () => {
    assert.deepEqual(await setCookieLines({ HUSH_SERVER_REFRESH: 'on' }, (reply, c) => c.set(reply, JWS, 60)), [
      `__Host-hush-refresh=${JWS}; Max-Age=60; Path=/; ${SECURE}`,
    ]);
  });

  it('follows the configuration: no Secure (and no prefix), SameSite=Lax; the pre-fix Path=/auth cookie of the same name is cleared with every set', async () => {
    const env = { HUSH_COOKIE_SECURE: 'false', HUSH_COOKIE_SAMESITE: 'lax' };
    assert.deepEqual(await setCookieLines(env, (reply, c) => c.set(reply, JWS, 60)), [
      `hush-refresh=${JWS}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`,
      'hush-refresh=; Max-Age=0; Path=/auth; HttpOnly; SameSite=Lax',
    ]);
  });

  it('is refused with HUSH_COOKIE_SECURE=false when the public origin is https', () => {
    const config = loadConfig({ HUSH_COOKIE_SECURE: 'false', HUSH_PUBLIC_ORIGIN: 'https://auth.example.com' });
    assert.throws(() => refreshCookie(config), (error: unknown) => error instanceof ConfigError && /HUSH_COOKIE_SECURE=false/.test(error.message));
    assert.doesNotThrow(() => refreshCookie(loadConfig({ HUSH_COOKIE_SECURE: 'false', HUSH_PUBLIC_ORIGIN: 'http://dev.example.com:3000' })));
  });

  it('is cleared with an empty value and Max-Age=0 at Path=/', async () => {
    assert.deepEqual(await setCookieLines({}, (reply, c) => c.clear(reply)), [`__Host-hush-refresh=; Max-Age=0; Path=/; ${SECURE}`]);
  });

  it('migrates: a set that replaces the pre-fix cookie clears __Secure-hush-refresh at Path=/auth and Path=/', async () => {
    assert.deepEqual(await setCookieLines({}, (reply, c) => c.set(reply, JWS, 60, true)), [
      `__Host-hush-refresh=${JWS}; Max-Age=60; Path=/; ${SECURE}`,
      `__Secure-hush-refresh=; Max-Age=0; Path=/auth; ${SECURE}`,
      `__Secure-hush-refresh=; Max-Age=0; Path=/; ${SECURE}`,
    ]);
    assert.deepEqual(await setCookieLines({}, (reply, c) => c.clearWithLegacy(reply)), [
      `__Host-hush-refresh=; Max-Age=0; Path=/; ${SECURE}`,
      `__Secure-hush-refresh=; Max-Age=0; Path=/auth; ${SECURE}`,
      `__Secure-hush-refresh=; Max-Age=0; Path=/; ${SECURE}`,
    ]);
  });

  it('clears a duplicated cookie at Path=/ and Path=/auth, and the pre-fix one', async () => {
    assert.deepEqual(await setCookieLines({}, (reply, c) => c.clearEverywhere(reply)), [
      `__Host-hush-refresh=; Max-Age=0; Path=/; ${SECURE}`,
      `__Host-hush-refresh=; Max-Age=0; Path=/auth; ${SECURE}`,
      `__Secure-hush-refresh=; Max-Age=0; Path=/auth; ${SECURE}`,
      `__Secure-hush-refresh=; Max-Age=0; Path=/; ${SECURE}`,
    ]);
    assert.deepEqual(await setCookieLines({ HUSH_COOKIE_SECURE: 'false' }, (reply, c) => c.clearEverywhere(reply)), [
      'hush-refresh=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict',
      'hush-refresh=; Max-Age=0; Path=/auth; HttpOnly; SameSite=Strict',
    ]);
  });

  it('keeps the host application’s cookies on the same reply, and replaces an earlier line of its own for the same path', async () => {
    const lines = await setCookieLines({}, (reply, c) => {
      reply.header('set-cookie', 'app=1; Path=/');
      c.set(reply, JWS, 60);
      c.clear(reply);
    });
    assert.deepEqual(lines, ['app=1; Path=/', `__Host-hush-refresh=; Max-Age=0; Path=/; ${SECURE}`]);
  });

  it('refuses a value that is not a JWS, or a Max-Age that is not finite, rather than write it into a header', async () => {
    const cookie = refreshCookie(loadConfig({}));
    const app = Fastify();
    app.get('/', async (_request, reply) => {
      assert.throws(() => cookie.set(reply, 'x; Domain=evil.example', 60), /must be a JWS/);
      assert.throws(() => cookie.set(reply, 'a\r\nSet-Cookie: b=1', 60), /must be a JWS/);
      assert.throws(() => cookie.set(reply, '', 60), /must be a JWS/);
      assert.throws(() => cookie.set(reply, JWS, Number.NaN), /finite Max-Age/);
      assert.throws(() => cookie.set(reply, JWS, Number.POSITIVE_INFINITY), /finite Max-Age/);
      return 'ok';
    });
    assert.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 200);
    await app.close();
  });
});

describe('reading the refresh cookie', () => {
  it('finds the token among other cookies, with or without spaces', () => {
    const expected = { kind: 'token', token: JWS, legacy: false };
    assert.deepEqual(readFrom(`__Host-hush-refresh=${JWS}`), expected);
    assert.deepEqual(readFrom(`a=1; __Host-hush-refresh=${JWS}; b=2`), expected);
    assert.deepEqual(readFrom(`a=1;__Host-hush-refresh=${JWS};b=x=y`), expected);
  });

  it('finds nothing without the cookie, with an empty or malformed value, or under another name', () => {
    for (const header of [undefined, '', 'a=1', '__Host-hush-refresh=', '__Host-hush-refresh=a b', '__host-hush-refresh=' + JWS, 'x__Host-hush-refresh=' + JWS, '__Host-hush-refresh']) {
      assert.deepEqual(readFrom(header), { kind: 'none' }, String(header));
    }
  });

  it('refuses the name carried twice, whatever the values, rather than pick one', () => {
    assert.deepEqual(readFrom(`__Host-hush-refresh=${OTHER}; __Host-hush-refresh=${JWS}`), { kind: 'duplicate' });
    assert.deepEqual(readFrom(`__Host-hush-refresh=${JWS}; a=1; __Host-hush-refresh=${JWS}`), { kind: 'duplicate' });
    assert.deepEqual(readFrom(`__Host-hush-refresh=garbage!; __Host-hush-refresh=${JWS}`), { kind: 'duplicate' });
    assert.deepEqual(readFrom(`hush-refresh=${OTHER}; hush-refresh=${JWS}`, { HUSH_COOKIE_SECURE: 'false' }), { kind: 'duplicate' });
  });

  it('accepts the pre-fix __Secure-hush-refresh only when the new cookie is absent, and refuses it twice', () => {
    assert.deepEqual(readFrom(`__Secure-hush-refresh=${JWS}`), { kind: 'token', token: JWS, legacy: true });
    assert.deepEqual(readFrom(`__Secure-hush-refresh=${OTHER}; __Host-hush-refresh=${JWS}`), { kind: 'token', token: JWS, legacy: true }, 'the new one, the old one to be cleared');
    assert.deepEqual(readFrom(`__Secure-hush-refresh=${OTHER}; __Secure-hush-refresh=${JWS}`), { kind: 'duplicate' });
    assert.deepEqual(readFrom(`__Secure-hush-refresh=${JWS}`, { HUSH_COOKIE_SECURE: 'false' }), { kind: 'none' }, 'plain mode never had it');
  });
});
