// The hush command, run as a real process against a real data folder.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestPostgresDatabase, postgresSkipReason } from '../src/store/test-db.js';
import { runCli, startServer } from './helpers/server.js';

const pgSkip = await postgresSkipReason();

/** A fresh, empty data folder for one test. */
async function freshDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'hush-cli-fresh-'));
}

let dataDir: string;
let env: Record<string, string>;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hush-cli-'));
  env = { HUSH_DATA_DIR: dataDir };
});
after(() => rm(dataDir, { recursive: true, force: true }));

describe('hush user', () => {
  it('creates a user with the password read from standard input, never from arguments', async () => {
    const created = await runCli(['user', 'create', 'carol'], { env, stdin: 'a long enough password\n' });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created [0-9a-f-]{36}\n$/);
    const listed = await runCli(['user', 'list'], { env });
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /carol/);
  });

  it('refuses a missing password, a taken name and an unknown user, exiting non-zero', async () => {
    assert.notEqual((await runCli(['user', 'create', 'dave'], { env, stdin: '' })).code, 0);
    const taken = await runCli(['user', 'create', 'CAROL'], { env, stdin: 'another password\n' });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /taken/);
    const unknown = await runCli(['user', 'suspend', 'nobody'], { env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no user named/);
  });

  it('suspends, unsuspends, sets a password and deletes', async () => {
    assert.equal((await runCli(['user', 'suspend', 'carol'], { env })).code, 0);
    assert.match((await runCli(['user', 'list'], { env })).stdout, /carol\s+\(suspended\)/);
    assert.equal((await runCli(['user', 'unsuspend', 'carol'], { env })).code, 0);
    assert.equal((await runCli(['user', 'set-password', 'carol'], { env, stdin: 'a brand new password' })).code, 0);
    assert.equal((await runCli(['user', 'delete', 'carol'], { env })).code, 0);
    assert.doesNotMatch((await runCli(['user', 'list'], { env })).stdout, /carol/);
  });
});

describe('hush keys', () => {
  it('with HS256, rotate explains the HUSH_SECRET + HUSH_PREVIOUS_SECRETS way and exits non-zero', async () => {
    const rotated = await runCli(['keys', 'rotate'], { env });
    assert.equal(rotated.code, 1);
    assert.match(rotated.stderr, /HUSH_PREVIOUS_SECRETS/);
    assert.match(rotated.stderr, /HUSH_SECRET/);
  });

  it('with EdDSA, rotate adds a key that is published at once and signs two minutes later; older keys stay', async () => {
    const edEnv = { ...env, HUSH_JWT_ALG: 'EdDSA' };
    const first = await runCli(['keys', 'rotate'], { env: edEnv });
    assert.equal(first.code, 0);
    assert.match(first.stdout, /sign with it from \d{4}-\d\d-\d\dT.*no restart needed/);
    assert.equal((await runCli(['keys', 'rotate'], { env: edEnv })).code, 0);
    const listed = await runCli(['keys', 'list'], { env: edEnv });
    const lines = listed.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    // Neither key has been published two minutes yet: the oldest signs, the newer waits its turn.
    assert.match(lines[0]!, /EdDSA\s+active/);
    assert.match(lines[1]!, /EdDSA\s+published, signs from \d{4}-/);
  });
});

describe('hush token decode', () => {
  it('prints the header and claims of a token from standard input, marked unverified', async () => {
    const server = await startServer({ env: { HUSH_RATE_LIMIT: 'off' } });
    try {
      const response = await fetch(`${server.url}/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'decoder', password: 'password1234' }),
      });
      const { access_token } = (await response.json()) as { access_token: string };
      const decoded = await runCli(['token', 'decode'], { stdin: `${access_token}\n` });
      assert.equal(decoded.code, 0, decoded.stderr);
      const out = JSON.parse(decoded.stdout) as { verified: boolean; header: { typ: string }; payload: { preferred_username: string } };
      assert.equal(out.verified, false);
      assert.equal(out.header.typ, 'at+jwt');
      assert.equal(out.payload.preferred_username, 'decoder');
    } finally {
      await server.close();
    }
  });

  it('accepts a token pasted with its "Bearer " scheme (or the whole Authorization header), and needs no configuration', async () => {
    const token = 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhYmMifQ.c2ln';
    for (const pasted of [`Bearer ${token}\n`, `Authorization: Bearer ${token}`, `bearer   ${token}`]) {
      const decoded = await runCli(['token', 'decode'], { stdin: pasted, env: { HUSH_LOG_LEVEL: 'banana' } });
      assert.equal(decoded.code, 0, decoded.stderr);
      assert.equal((JSON.parse(decoded.stdout) as { payload: { sub: string } }).payload.sub, 'abc');
    }
  });

  it('refuses something that is not a token with a clear message and no echo of the input', async () => {
    const decoded = await runCli(['token', 'decode'], { stdin: 'secret-looking-garbage' });
    assert.equal(decoded.code, 1);
    assert.doesNotMatch(decoded.stderr, /secret-looking-garbage/);
  });
});

describe('bad arguments', () => {
  for (const args of [[], ['frobnicate'], ['user'], ['user', 'create'], ['user', 'list', 'extra'], ['keys', 'spin'], ['start', '--colour', 'red'], ['start', '--secret', 'x'], ['token'], ['start', '--port', 'eighty']]) {
    it(`hush ${args.join(' ') || '(nothing)'} prints a clear message and exits non-zero`, async () => {
      const result = await runCli(args, { env });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /hush|Usage/);
    });
  }

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /user create <username>/);
  });

  it('--help works at every level and --version prints the package version, both exiting 0', async () => {
    const version = await runCli(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^hush-auth \d+\.\d+\.\d+/);
    const helps: Array<[string[], RegExp]> = [
      [['user', '--help'], /Usage: hush user <action>/],
      [['user', 'create', '--help'], /Usage: hush user <action>/],
      [['keys', '--help'], /Usage: hush keys list\|rotate/],
      [['token', '--help'], /Bearer <token>/],
      [['start', '--help'], /Usage: hush start/],
    ];
    for (const [args, usage] of helps) {
      const result = await runCli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, usage);
    }
  });

  it('says which argument is missing in words, not "needs 1 argument(s)"', async () => {
    const result = await runCli(['user', 'create'], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^hush: hush user create needs a <username>, e\.g\. hush user create alice\n$/);
  });

  it('warns that a --database-url or --redis-url carrying a password is visible to other users, and only then', async () => {
    const dir = await freshDir();
    try {
      const withPassword = await runCli(['token', 'decode', '--database-url', 'postgres://hush:hunter2@127.0.0.1:1/hush', '--redis-url=redis://:hunter2@127.0.0.1:1'], { stdin: 'x' });
      assert.match(withPassword.stderr, /warning: --database-url carries a password, which other users of this machine can read in the process list; set DATABASE_URL/);
      assert.match(withPassword.stderr, /warning: --redis-url carries a password.*set REDIS_URL/);
      assert.doesNotMatch(withPassword.stderr, /hunter2/);
      const without = await runCli(['token', 'decode', '--database-url', join(dir, 'hush.sqlite')], { stdin: 'x' });
      assert.doesNotMatch(without.stderr, /warning/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('misconfiguration is refused naming the setting', () => {
  const refusals: Array<[Record<string, string>, RegExp]> = [
    [{ HUSH_LOG_LEVEL: 'banana' }, /^hush: HUSH_LOG_LEVEL must be one of/],
    [{ REDIS_URL: 'notaurl' }, /^hush: REDIS_URL is not a URL/],
    [{ HUSH_ACCESS_TTL: '2h', HUSH_REFRESH_TTL: '1h' }, /^hush: HUSH_ACCESS_TTL .* must not be longer than HUSH_REFRESH_TTL/],
    [{ DATABASE_URL: 'mysql://root@127.0.0.1/hush' }, /^hush: DATABASE_URL: "mysql:" is not supported/],
  ];
  for (const [settings, message] of refusals) {
    it(`hush start with ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ')} exits 2 and creates nothing`, async () => {
      const dir = await freshDir();
      try {
        const result = await runCli(['start'], { env: { HUSH_DATA_DIR: join(dir, 'data'), PORT: '0', ...settings } });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, message);
        assert.deepEqual(await readdir(dir), [], 'no folder named mysql:, no data folder');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('hush start on a PORT in use exits 1 suggesting another PORT; on a HUSH_METRICS_PORT in use, exits 1 naming it', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = String((holder.address() as { port: number }).port);
    const dir = await freshDir();
    try {
      const api = await runCli(['start'], { env: { HUSH_DATA_DIR: dir, HOST: '127.0.0.1', PORT: port } });
      assert.equal(api.code, 1, api.stderr);
      assert.match(api.stderr, new RegExp(`hush: PORT=${port}: the port is already in use on 127\\.0\\.0\\.1; stop what uses it or set PORT to another port`));
      // The process exits by itself (runCli waits for the exit): nothing half-started keeps it alive.
      const metrics = await runCli(['start'], { env: { HUSH_DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', HUSH_METRICS_PORT: port } });
      assert.equal(metrics.code, 1, metrics.stderr);
      assert.match(metrics.stderr, new RegExp(`hush: HUSH_METRICS_PORT=${port}: the port is already in use`));
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('hush start on every interface', () => {
  it('logs the address really bound (0.0.0.0, not 127.0.0.1) and warns that a Secure cookie over plain http signs users out', async () => {
    const server = await startServer({ env: { HOST: '0.0.0.0' } });
    try {
      assert.match(server.output(), /"url":"http:\/\/0\.0\.0\.0:\d+","local":"http:\/\/127\.0\.0\.1:\d+"[^\n]*"msg":"hush listening"/);
      assert.match(server.output(), /"setting":"HUSH_PUBLIC_ORIGIN","msg":"HOST=0\.0\.0\.0 serves other machines, but the refresh cookie is Secure/);
    } finally {
      await server.close();
    }
  });
});

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
