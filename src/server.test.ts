// hush used as a library: createHush in the test's own process, over real HTTP.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from './config.js';
import { decode } from './jwt/index.js';
import { createHush, openCore } from './server.js';
import { createTestPostgresDatabase, postgresSkipReason } from './store/test-db.js';
import { REDIS_TEST_URL, redisSkipReason } from './core/test-redis.js';

describe('createHush', () => {
  it('adds custom claims from the claims hook, and never lets it override a reserved claim', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hush-lib-'));
    const hush = await createHush(loadConfig({ HUSH_DATA_DIR: dir, PORT: '0', HUSH_RATE_LIMIT: 'off' }), {
      claims: (user) => ({ roles: user.username === 'admin' ? ['admin'] : ['reader'], sub: 'forged', iss: 'forged' }),
      logger: false,
    });
    try {
      const url = await hush.listen();
      const response = await fetch(`${url}/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'password1234' }),
      });
      assert.equal(response.status, 201);
      const body = (await response.json()) as { access_token: string; user: { id: string } };
      const { payload } = decode(body.access_token);
      assert.ok(typeof payload === 'object');
      assert.deepEqual(payload['roles'], ['admin']);
      assert.equal(payload.sub, body.user.id);
      assert.equal(payload.iss, 'hush');
      const privateResponse = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${body.access_token}` } });
      assert.equal(privateResponse.status, 200);
    } finally {
      await hush.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on PostgreSQL without explicit secrets', async () => {
    await assert.rejects(
      createHush(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', PORT: '0' }), { logger: false }),
      /HUSH_SECRET and HUSH_REFRESH_SECRET/,
    );
  });
});

const skip = (await postgresSkipReason()) || (await redisSkipReason());

describe('openCore', () => {
  it('closes what it opened (the revocation listener and the pool are checked) when assembly fails part-way', { skip }, async () => {
    const db = await createTestPostgresDatabase();
    const admin = new pg.Client(db.url);
    await admin.connect();
    try {
      const config = loadConfig({
        DATABASE_URL: db.url,
        REDIS_URL: REDIS_TEST_URL,
        HUSH_SECRET: 'open-core-test-access-secret-0123456789',
        HUSH_REFRESH_SECRET: 'open-core-test-refresh-secret-0123456789',
      });
      // The hasher is built after the feed started listening and Redis was connected.
      await assert.rejects(openCore(config, { hashing: { concurrency: 0 } }), /concurrency must be an integer/);
      const { rows } = await admin.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      assert.equal(rows[0]?.n, 0, 'no connection of the failed core is left open');
    } finally {
      await admin.end();
      await db.drop();
    }
  });
});
