/**
 * Resource services verifying a real hush server's HS256 access tokens with the shared secret:
 * Express, Hono and Fastify apps guarded by hush accept the tokens the server issues and refuse
 * tampered, expired and wrong-audience ones with 401.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthenticator } from '../../src/middleware/core.js';
import { startServer, TEST_REFRESH_SECRET, TEST_SECRET, type TestServer } from '../helpers/server.js';
import {
  assertEveryAppAccepts,
  assertEveryAppRefuses,
  callWith,
  claimsOf,
  flipSignature,
  signup,
  startResourceApps,
  tamper,
  type ResourceApps,
} from './support.js';

const ENV = { HUSH_SECRET: TEST_SECRET, HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET, HUSH_RATE_LIMIT: 'off' };

describe('resource services with the shared HS256 secret', () => {
  let server: TestServer;
  let shortLived: TestServer;
  let otherAudience: TestServer;
  let apps: ResourceApps;

  before(async () => {
    [server, shortLived, otherAudience] = await Promise.all([
      startServer({ env: ENV }),
      startServer({ env: { ...ENV, HUSH_ACCESS_TTL: '1s' } }),
      startServer({ env: { ...ENV, HUSH_AUDIENCE: 'other' } }),
    ]);
    apps = await startResourceApps({ secret: TEST_SECRET });
  });

  after(async () => {
    await apps?.close();
    await Promise.all([server?.close(), shortLived?.close(), otherAudience?.close()]);
  });

  it('accept the access token the server issued at signup', async () => {
    const session = await signup(server);
    await assertEveryAppAccepts(apps, session.accessToken, session.user);
    const own = await callWith(`${server.url}/api/private`, session.accessToken);
    assert.equal(own.status, 200, 'the server accepts it too');
  });

  it('refuse a token whose claims were changed after signing', async () => {
    const session = await signup(server);
    await assertEveryAppRefuses(apps, tamper(session.accessToken, { preferred_username: 'admin' }), 'The access token is invalid.');
    await assertEveryAppRefuses(apps, tamper(session.accessToken, { aud: ['hush', 'other'] }));
  });

  it('refuse a token whose signature was changed', async () => {
    const session = await signup(server);
    await assertEveryAppRefuses(apps, flipSignature(session.accessToken), 'The access token is invalid.');
  });

  it('refuse an expired token (HUSH_ACCESS_TTL=1s, 2.5 s later)', async () => {
    const session = await signup(shortLived);
    const { iat, exp } = claimsOf(session.accessToken);
    assert.equal((exp as number) - (iat as number), 1);
    await sleep(2500);
    await assertEveryAppRefuses(apps, session.accessToken, 'The access token has expired.');
    // Control: only its age is wrong — with a minute of leeway the same token passes.
    const lenient = createAuthenticator({ secret: TEST_SECRET, leeway: 60 });
    assert.equal((lenient.authenticate(`Bearer ${session.accessToken}`) as { id: string }).id, session.user.id);
  });

  it('refuse a token issued for another audience (HUSH_AUDIENCE=other)', async () => {
    const session = await signup(otherAudience);
    assert.equal(claimsOf(session.accessToken)['aud'], 'other');
    await assertEveryAppRefuses(apps, session.accessToken, 'The access token is invalid.');
    // Control: only its audience is wrong — a guard for that audience accepts it.
    const forOther = createAuthenticator({ secret: TEST_SECRET, audience: 'other' });
    assert.equal((forOther.authenticate(`Bearer ${session.accessToken}`) as { id: string }).id, session.user.id);
  });

  it('refuse the refresh token presented as an access token', async () => {
    const session = await signup(server);
    await assertEveryAppRefuses(apps, session.refreshToken);
  });

  it('answer 401 missing_token without a token', async () => {
    for (const app of apps.apps) {
      const response = await callWith(app.url, undefined);
      assert.equal(response.status, 401, app.framework);
      assert.equal(response.body['error'], 'missing_token', app.framework);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="hush"', app.framework);
    }
  });
});
