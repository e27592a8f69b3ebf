// The hush command against real data folders and databases: where the secrets live, read-only commands.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createTestPostgresDatabase, postgresSkipReason } from '../src/store/test-db.js';
import { runCli, startServer } from './helpers/server.js';

const pgSkip = await postgresSkipReason();

/** A fresh, empty data folder for one test. */
async function freshDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'hush-cli-fresh-'));
}

describe('the CLI and the secrets', () => {
  it('user commands on a fresh data folder never generate secrets; the first start does, and keys list says where they live', async () => {
    const dir = await freshDir();
    try {
      const created = await runCli(['user', 'create', 'erin'], { env: { HUSH_DATA_DIR: dir }, stdin: 'a long enough password\n' });
      assert.equal(created.code, 0, created.stderr);
      assert.equal((await runCli(['user', 'suspend', 'erin'], { env: { HUSH_DATA_DIR: dir } })).code, 0);
      assert.ok(!existsSync(join(dir, 'secrets.json')), 'no secret set a later start would pick up');
      const before = await runCli(['keys', 'list'], { env: { HUSH_DATA_DIR: dir } });
      assert.equal(before.code, 0, before.stderr);
      assert.match(before.stdout, /HS256: the signing secret is not generated yet: the first hush start writes it to .*secrets\.json/);
      const server = await startServer({ dataDir: dir });
      await server.close();
      assert.ok(existsSync(join(dir, 'secrets.json')));
      const after = await runCli(['keys', 'list'], { env: { HUSH_DATA_DIR: dir } });
      assert.match(after.stdout, /HS256: the signing secret is the "secret" value of .*secrets\.json, generated on first start/);
      const fromEnv = await runCli(['keys', 'list'], { env: { HUSH_DATA_DIR: dir, HUSH_SECRET: 'x'.repeat(40) } });
      assert.match(fromEnv.stdout, /HS256: the signing secret is HUSH_SECRET, set in this environment/);
      const rotate = await runCli(['keys', 'rotate'], { env: { HUSH_DATA_DIR: dir } });
      assert.equal(rotate.code, 1);
      assert.match(rotate.stderr, /here that is the "secret" value of .*secrets\.json/);
      assert.doesNotMatch(rotate.stderr, /does not store/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keys list and rotate notice EdDSA keys in the data folder when HUSH_JWT_ALG is not set', async () => {
    const dir = await freshDir();
    try {
      assert.equal((await runCli(['keys', 'rotate'], { env: { HUSH_DATA_DIR: dir, HUSH_JWT_ALG: 'EdDSA' } })).code, 0);
      const listed = await runCli(['keys', 'list'], { env: { HUSH_DATA_DIR: dir } });
      assert.equal(listed.code, 0);
      assert.match(listed.stderr, /HUSH_JWT_ALG is not set, so this run assumed HS256, but .*signing-keys\.json holds 1 EdDSA key\(s\).*HUSH_JWT_ALG=EdDSA/);
      const explicit = await runCli(['keys', 'list', '--jwt-alg', 'HS256'], { env: { HUSH_DATA_DIR: dir } });
      assert.doesNotMatch(explicit.stderr, /assumed HS256/, 'an explicit choice is respected');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('read-only commands', () => {
  it('user list and keys list on a data folder without a database refuse, create nothing and ask for no secret', async () => {
    const dir = await freshDir();
    try {
      const listed = await runCli(['user', 'list'], { env: { HUSH_DATA_DIR: dir } });
      assert.equal(listed.code, 1);
      assert.match(listed.stderr, /^hush: no hush database at .*hush\.sqlite \(DATABASE_URL/);
      const keys = await runCli(['keys', 'list'], { env: { HUSH_DATA_DIR: dir, HUSH_JWT_ALG: 'EdDSA' } });
      assert.equal(keys.code, 0, keys.stderr);
      assert.match(keys.stderr, /no keys yet/);
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a SQLite file without hush tables is refused naming DATABASE_URL, and left without them', async () => {
    const dir = await freshDir();
    try {
      const path = join(dir, 'other.sqlite');
      const BetterSqlite3 = (await import('better-sqlite3')).default;
      const other = new BetterSqlite3(path);
      other.exec('create table notes (id integer primary key)');
      other.close();
      const listed = await runCli(['user', 'list'], { env: { HUSH_DATA_DIR: dir, DATABASE_URL: path } });
      assert.equal(listed.code, 1);
      assert.match(listed.stderr, /^hush: the database at DATABASE_URL \(.*other\.sqlite\) has no hush tables/);
      const check = new BetterSqlite3(path, { readonly: true });
      const tables = check.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
      check.close();
      assert.deepEqual(tables.map((t) => t.name), ['notes']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on PostgreSQL, user list needs no secret and never migrates: a database without hush tables is refused and stays empty', { skip: pgSkip }, async () => {
    const db = await createTestPostgresDatabase();
    try {
      const listed = await runCli(['user', 'list'], { env: { DATABASE_URL: db.url } });
      assert.equal(listed.code, 1);
      assert.match(listed.stderr, /^hush: the database at DATABASE_URL \(PostgreSQL\) has no hush tables/);
      assert.doesNotMatch(listed.stderr, /HUSH_SECRET/);
      const client = new pg.Client(db.url);
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
        assert.equal(rows[0]?.n, 0, 'no table was created');
      } finally {
        await client.end();
      }
      // A user command (which may migrate) needs no secret either; then the list reads it.
      assert.equal((await runCli(['user', 'create', 'frank'], { env: { DATABASE_URL: db.url }, stdin: 'a long enough password' })).code, 0);
      const after = await runCli(['user', 'list'], { env: { DATABASE_URL: db.url } });
      assert.equal(after.code, 0, after.stderr);
      assert.match(after.stdout, /frank/);
      // EdDSA keys in the database are noticed by a keys list run without HUSH_JWT_ALG.
      assert.equal((await runCli(['keys', 'rotate', '--jwt-alg', 'ES256'], { env: { DATABASE_URL: db.url } })).code, 0);
      const keys = await runCli(['keys', 'list'], { env: { DATABASE_URL: db.url } });
      assert.equal(keys.code, 0, keys.stderr);
      assert.match(keys.stdout, /HS256: the signing secret is HUSH_SECRET, which a PostgreSQL deployment must set/);
      assert.match(keys.stderr, /the database holds 1 ES256 key\(s\).*HUSH_JWT_ALG=ES256/);
    } finally {
      await db.drop();
    }
  });

  it('a DATABASE_URL where nothing listens is reported naming DATABASE_URL, exit 1', async () => {
    const listed = await runCli(['user', 'list'], { env: { DATABASE_URL: 'postgres://hush:hunter2@127.0.0.1:1/hush' } });
    assert.equal(listed.code, 1);
    assert.match(listed.stderr, /^hush: DATABASE_URL: cannot reach the database at 127\.0\.0\.1:1 \(connection refused/);
    assert.doesNotMatch(listed.stderr, /hunter2/);
  });
});
