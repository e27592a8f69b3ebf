import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from './config.js';
import { openCore } from './server.js';
import { createTestPostgresDatabase, postgresSkipReason } from './store/test-db.js';
import { REDIS_TEST_URL, redisSkipReason } from './core/test-redis.js';

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
