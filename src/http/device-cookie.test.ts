import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { loadConfig } from '../config.js';
import type { Grant, RequestContext } from '../core/service.js';
import { deviceCookie, readOnce } from './device-cookie.js';

const VALUE = 'AAAAAAAAAAAAAAAAAAAAAA.6f1d1c7e-2b1e-4f57-9f0e-1f1a3c1d2e4f.BBBBBBBBBBBBBBBBBBBBBB';
const grant = (device: string | undefined): Grant => ({
  accessToken: 'a.b.c',
  expiresIn: 600,
  refreshToken: 'r.s.t',
  refreshMaxAge: 60,
  user: { id: '6f1d1c7e-2b1e-4f57-9f0e-1f1a3c1d2e4f', username: 'alice' },
  device,
});

/** Runs `handle` in a route and returns the Set-Cookie lines and the context it read. */
async function run(env: Record<string, string>, cookieHeader: string | undefined, device: string | undefined): Promise<{ lines: string[]; context: RequestContext }> {
  const cookie = deviceCookie(loadConfig(env));
  const app = Fastify();
  let context: RequestContext | undefined;
  app.get('/', async (request, reply) => {
    context = cookie.context(request);
    cookie.set(reply, grant(device));
    return 'ok';
  });
  const response = await app.inject({ method: 'GET', url: '/', headers: cookieHeader === undefined ? {} : { cookie: cookieHeader } });
  await app.close();
  const header = response.headers['set-cookie'];
  assert.ok(context);
  return { lines: header === undefined ? [] : Array.isArray(header) ? header : [header], context };
}

describe('the device cookie', () => {
  it('is __Host-hush-device: HttpOnly, Secure, SameSite like the refresh cookie, Path=/, no Domain, one year', async () => {
    assert.deepEqual((await run({}, undefined, VALUE)).lines, [
      `__Host-hush-device=${VALUE}; Max-Age=31536000; Path=/; HttpOnly; Secure; SameSite=Strict`,
    ]);
    assert.deepEqual((await run({ HUSH_COOKIE_SECURE: 'false', HUSH_COOKIE_SAMESITE: 'lax' }, undefined, VALUE)).lines, [
      `hush-device=${VALUE}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax`,
    ]);
  });

  it('is set only by grants that carry one (a refresh does not)', async () => {
    assert.deepEqual((await run({}, undefined, undefined)).lines, []);
  });

  it('refuses a value that would change the header rather than write it', () => {
    const cookie = deviceCookie(loadConfig({}));
    const reply = { header: () => assert.fail('nothing may be written') } as unknown as Parameters<typeof cookie.set>[0];
    assert.throws(() => cookie.set(reply, grant(`${VALUE}; Domain=evil.example`)), TypeError);
    assert.throws(() => cookie.set(reply, grant(`${VALUE}\r\nSet-Cookie: x=1`)), TypeError);
  });

  it('reads the value into the request context, with the address', async () => {
    const { context } = await run({}, `a=1; __Host-hush-device=${VALUE}; b=2`, undefined);
    assert.equal(context.device, VALUE);
    assert.equal(typeof context.address, 'string');
    assert.equal((await run({ HUSH_COOKIE_SECURE: 'false' }, `hush-device=${VALUE}`, undefined)).context.device, VALUE);
    assert.equal((await run({}, `hush-device=${VALUE}`, undefined)).context.device, undefined, 'only the configured name');
  });
});

describe('readOnce', () => {
  it('reads a cookie that appears once, and nothing when it appears twice or not at all', () => {
    assert.equal(readOnce('x=1; y=2', 'y'), '2');
    assert.equal(readOnce('y=1; x=3; y=2', 'y'), undefined);
    assert.equal(readOnce('xy=1', 'y'), undefined);
    assert.equal(readOnce(undefined, 'y'), undefined);
    assert.equal(readOnce('y', 'y'), undefined);
  });
});
