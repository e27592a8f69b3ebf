/**
 * Resource services that follow the hush server's revocation feed (`hush-auth/revocations`): an Express,
 * a Hono and a Fastify app refuse a suspended user's access tokens within 2 s, as the server does —
 * on PostgreSQL with Redis, and on the embedded SQLite file — while the token a password change
 * returns stays good.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createAuthenticator } from '../../src/middleware/core.js';
import { REDIS_TEST_URL, redisSkipReason } from '../../src/core/test-redis.js';
import { followRevocations, RevocationFeedError, type RevocationSubscription } from '../../src/revocations.js';
import { createTestPostgresDatabase, postgresSkipReason } from '../../src/store/test-db.js';
import { runCli, startServer, TEST_REFRESH_SECRET, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { Api } from '../integration/helpers/http.js';
import { assertEveryAppAccepts, assertEveryAppRefuses, callWith, signup, startResourceApps, type ResourceApps } from './support.js';

const ENV = { HUSH_SECRET: TEST_SECRET, HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET, HUSH_RATE_LIMIT: 'off' };
const REVOKED = 'The access token has been revoked.';
const PASSWORD = 'correct horse battery staple';

/** Milliseconds until every app refuses `token`, polling every 20 ms; fails after `within` ms. */
async function untilEveryAppRefuses(apps: ResourceApps, token: string, within: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const statuses = await Promise.all(apps.apps.map(async (app) => (await callWith(app.url, token)).status));
    if (statuses.every((status) => status === 401)) return performance.now() - started;
    if (performance.now() - started > within) assert.fail(`not refused everywhere within ${within} ms (statuses ${statuses.join(', ')})`);
    await sleep(20);
  }
}

/** The same specification against a server on either database. */
function followingSpecification(
  label: string,
  skip: string | false,
  setup: () => Promise<{ server: TestServer; databaseUrl: string; redisUrl?: string }>,
): void {
  describe(`resource services following the revocation feed (${label})`, { skip }, () => {
    let server: TestServer;
    let revocations: RevocationSubscription;
    let apps: ResourceApps;

    before(async () => {
      const started = await setup();
      server = started.server;
      revocations = await followRevocations({ databaseUrl: started.databaseUrl, redisUrl: started.redisUrl, onError: (e) => assert.fail(`feed error: ${String(e)}`) });
      apps = await startResourceApps({ secret: TEST_SECRET, revocations });
    });

    after(async () => {
      await apps?.close();
      await revocations?.close();
      await server?.close();
    });

    it('`hush user suspend` makes every service refuse the user’s access tokens within 2 s', async () => {
      const session = await signup(server);
      const bystander = await signup(server);
      await assertEveryAppAccepts(apps, session.accessToken, session.user);
      const cli = await runCli(['user', 'suspend', session.user.username], { env: server.env });
      assert.equal(cli.code, 0, cli.stderr);
      const delay = await untilEveryAppRefuses(apps, session.accessToken, 2000);
      console.log(`# ${label}: suspension refused by Express, Hono and Fastify ${delay.toFixed(0)} ms after the CLI exited`);
      await assertEveryAppRefuses(apps, session.accessToken, REVOKED);
      await assertEveryAppAccepts(apps, bystander.accessToken, bystander.user);
      // Control: the token itself is still good — a guard that does not follow the feed accepts it.
      const unfollowing = createAuthenticator({ secret: TEST_SECRET });
      assert.equal((unfollowing.authenticate(`Bearer ${session.accessToken}`) as { id: string }).id, session.user.id);
    });

    it('after a password change, refuses the old access token and accepts the one the change returned', async () => {
      const api = new Api(server.url);
      const session = await signup(server);
      const changed = await api.changePassword(session.accessToken, PASSWORD, 'a new and longer passphrase');
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const fresh = (changed.body as { access_token: string }).access_token;
      await untilEveryAppRefuses(apps, session.accessToken, 2000);
      await assertEveryAppAccepts(apps, fresh, session.user);
    });
  });
}

const postgresSkip = await postgresSkipReason();

followingSpecification('PostgreSQL and Redis', postgresSkip || (await redisSkipReason()), async () => {
  const server = await startServer({ database: 'postgres', env: { ...ENV, REDIS_URL: REDIS_TEST_URL } });
  return { server, databaseUrl: server.env['DATABASE_URL']!, redisUrl: REDIS_TEST_URL };
});

followingSpecification('SQLite', false, async () => {
  const server = await startServer({ env: ENV });
  return { server, databaseUrl: join(server.dataDir, 'hush.sqlite') };
});

describe('followRevocations refuses what it cannot follow', () => {
  it('a SQLite path with no database, without creating one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hush-follow-'));
    try {
      const missing = join(dir, 'nothing.sqlite');
      await assert.rejects(followRevocations({ databaseUrl: missing }), (error: unknown) => {
        assert.ok(error instanceof RevocationFeedError);
        assert.equal(error.code, 'revocation_feed_unavailable');
        return true;
      });
      await assert.rejects(import('node:fs/promises').then((fs) => fs.access(missing)), 'no file was created');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a PostgreSQL database where no hush server has started', { skip: postgresSkip }, async () => {
    const db = await createTestPostgresDatabase();
    try {
      await assert.rejects(followRevocations({ databaseUrl: db.url }), (error: unknown) => {
        assert.ok(error instanceof RevocationFeedError);
        assert.match(error.message, /cannot read the revocation feed \(42P01\)/);
        return true;
      });
    } finally {
      await db.drop();
    }
  });

  it('an empty databaseUrl', async () => {
    await assert.rejects(followRevocations({ databaseUrl: '' }), /databaseUrl is required/);
  });
});
