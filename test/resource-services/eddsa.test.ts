/**
 * Resource services verifying a real hush server's EdDSA access tokens through its JWKS URL
 * (HUSH_JWT_ALG=EdDSA): Express, Hono and Fastify apps guarded by hush accept the tokens the server
 * issues and refuse tampered, expired and wrong-audience ones — and HS256 forgeries — with 401.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { importSecret, signJws } from '../../src/jwt/index.js';
import { createAuthenticator } from '../../src/middleware/core.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  assertEveryAppAccepts,
  assertEveryAppRefuses,
  claimsOf,
  flipSignature,
  signup,
  startResourceApps,
  tamper,
  type ResourceApps,
} from './support.js';

const ENV = { HUSH_JWT_ALG: 'EdDSA', HUSH_RATE_LIMIT: 'off' };
const jwksUrl = (server: TestServer): string => `${server.url}/.well-known/jwks.json`;

describe('resource services with EdDSA keys from the JWKS URL', () => {
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
    apps = await startResourceApps({ jwksUrl: jwksUrl(server) });
  });

  after(async () => {
    await apps?.close();
    await Promise.all([server?.close(), shortLived?.close(), otherAudience?.close()]);
  });

  it('accept the access token the server issued at signup', async () => {
    const session = await signup(server);
    const header = JSON.parse(Buffer.from(session.accessToken.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(header['alg'], 'EdDSA');
    assert.equal(typeof header['kid'], 'string');
    await assertEveryAppAccepts(apps, session.accessToken, session.user);
  });

  it('refuse a token whose claims were changed after signing', async () => {
    const session = await signup(server);
    await assertEveryAppRefuses(apps, tamper(session.accessToken, { sub: '00000000-0000-4000-8000-000000000000' }), 'The access token is invalid.');
  });

  it('refuse a token whose signature was changed', async () => {
    const session = await signup(server);
    await assertEveryAppRefuses(apps, flipSignature(session.accessToken), 'The access token is invalid.');
  });

  it('refuse an HS256 token signed with the public key as the secret (algorithm confusion)', async () => {
    const session = await signup(server);
    const { keys } = (await (await fetch(jwksUrl(server))).json()) as { keys: Array<{ kid: string; x: string }> };
    const publicKey = keys[0]!;
    // The public key's encoding (43 characters) as the HMAC secret, with the real key's kid.
    const forged = signJws(JSON.stringify(claimsOf(session.accessToken)), importSecret(publicKey.x, 'HS256', publicKey.kid), { typ: 'at+jwt' });
    assert.equal(claimsOf(forged)['sub'], session.user.id);
    await assertEveryAppRefuses(apps, forged, 'The access token is invalid.');
  });

  it('refuse an expired token (HUSH_ACCESS_TTL=1s, 2.5 s later)', async () => {
    const expiringApps = await startResourceApps({ jwksUrl: jwksUrl(shortLived) });
    try {
      const session = await signup(shortLived);
      await sleep(2500);
      await assertEveryAppRefuses(expiringApps, session.accessToken, 'The access token has expired.');
      // Control: only its age is wrong — with a minute of leeway the same token passes.
      const lenient = createAuthenticator({ jwksUrl: jwksUrl(shortLived), leeway: 60 });
      assert.equal(((await lenient.authenticate(`Bearer ${session.accessToken}`)) as { id: string }).id, session.user.id);
    } finally {
      await expiringApps.close();
    }
  });

  it('refuse a token issued for another audience (HUSH_AUDIENCE=other), though its key is trusted', async () => {
    const otherApps = await startResourceApps({ jwksUrl: jwksUrl(otherAudience) });
    try {
      const session = await signup(otherAudience);
      await assertEveryAppRefuses(otherApps, session.accessToken, 'The access token is invalid.');
      // Control: only its audience is wrong — a guard for that audience accepts it.
      const forOther = createAuthenticator({ jwksUrl: jwksUrl(otherAudience), audience: 'other' });
      assert.equal(((await forOther.authenticate(`Bearer ${session.accessToken}`)) as { id: string }).id, session.user.id);
    } finally {
      await otherApps.close();
    }
  });

  it('refuse a token signed by another hush server\'s key', async () => {
    const session = await signup(otherAudience);
    await assertEveryAppRefuses(apps, session.accessToken, 'The access token is invalid.');
  });

  it('refuse the refresh token presented as an access token', async () => {
    const session = await signup(server);
    await assertEveryAppRefuses(apps, session.refreshToken);
  });
});
