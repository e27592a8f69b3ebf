/**
 * Test utilities for PostgreSQL: a throwaway database per test run. Not part of the build.
 *
 * The server is reached through `HUSH_TEST_POSTGRES_URL`, by default
 * `postgres://postgres@127.0.0.1:5432/test`; databases are created beside that one.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env['HUSH_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  // A connection that breaks after connecting must fail the query, not crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether the test PostgreSQL server answers (within about 3 s). */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await withAdmin((client) => client.query('select 1'));
    return true;
  } catch {
    return false;
  }
}

/**
 * What a PostgreSQL test suite should do about the server: `false` to run, or a message to
 * skip with. Throws when the server is unreachable and `CI` is set, since CI must run them.
 */
export async function postgresSkipReason(): Promise<string | false> {
  if (await postgresAvailable()) return false;
  const message = `PostgreSQL is unreachable at ${new URL(ADMIN_URL).host} (set HUSH_TEST_POSTGRES_URL)`;
  if (process.env['CI']) throw new Error(`${message}; CI is set, so PostgreSQL tests must run`);
  return `${message}: PostgreSQL tests skipped`;
}

/** A fresh, empty database with a random `hush_test_` name, and how to drop it. */
export async function createTestPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  // Hex only, so the name needs no quoting.
  const name = `hush_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`create database ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      // FORCE ends connections a test left open, so the drop cannot hang or fail on them.
      await withAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}
