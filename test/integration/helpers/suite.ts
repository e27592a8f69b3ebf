/**
 * Shared set-up of the integration specifications: every spec runs against SQLite and against
 * PostgreSQL, each block on one real `hush start` shared by its tests.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { postgresSkipReason } from '../../../src/store/test-db.js';
import { startServer, TEST_REFRESH_SECRET, TEST_SECRET, type StartOptions, type TestServer } from '../../helpers/server.js';
import { Api, assertNoSecrets, PLAIN_COOKIE, SECURE_COOKIE } from './http.js';

export { TEST_REFRESH_SECRET, TEST_SECRET };

export type Database = 'sqlite' | 'postgres';

/** The databases to run against, with the reason to skip PostgreSQL when it is not reachable. */
export async function databases(): Promise<Array<{ database: Database; skip: string | false }>> {
  return [
    { database: 'sqlite', skip: false },
    { database: 'postgres', skip: await postgresSkipReason() },
  ];
}

/**
 * The environment most specs use: fixed secrets (so tests can check signatures and forge tokens
 * the server did not issue) and rate limits off, so that many requests from one address pass.
 */
export const BASE_ENV: Readonly<Record<string, string>> = {
  HUSH_SECRET: TEST_SECRET,
  HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET,
  HUSH_RATE_LIMIT: 'off',
};

/** A server of the current `describe` block, started before its tests and stopped after them. */
export interface SharedServer {
  readonly server: TestServer;
  readonly api: Api;
}

/**
 * Starts one server for the enclosing `describe` block (in `before`) and stops it (in `after`),
 * first checking that nothing secret the tests handled reached its output.
 */
export function sharedServer(database: Database, env: Readonly<Record<string, string>> = BASE_ENV, options: Omit<StartOptions, 'env' | 'database'> = {}): SharedServer {
  let server: TestServer | undefined;
  let api: Api | undefined;
  before(async () => {
    server = await startServer({ ...options, database, env: { ...env } });
    api = new Api(server.url, env['HUSH_COOKIE_SECURE'] === 'false' ? PLAIN_COOKIE : SECURE_COOKIE);
  });
  after(async () => {
    if (!server) return;
    await server.close();
    if (api) assertNoSecrets(server.output(), api.secrets);
  });
  return {
    get server() {
      assert.ok(server, 'the server has not started');
      return server;
    },
    get api() {
      assert.ok(api, 'the server has not started');
      return api;
    },
  };
}
