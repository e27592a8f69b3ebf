// hush used as a library: createHush in the test's own process, over real HTTP.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, type Env } from './config.js';
import type { Logger } from './http/log.js';
import { decode } from './jwt/index.js';
import { createHush, listenUrl, openCore } from './server.js';
import { StartupError } from './startup-errors.js';
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

/** A pino logger whose lines are kept, parsed, for assertions. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino<never>({ level: 'info' }, stream), lines, text: () => raw };
}

/** A port held by another listener for the duration of `use`. */
async function withBusyPort<T>(use: (port: number) => Promise<T>): Promise<T> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    return await use((holder.address() as { port: number }).port);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
}

async function withDataDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'hush-start-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const env = (dir: string, more: Env = {}): Env => ({ HUSH_DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', HUSH_RATE_LIMIT: 'off', ...more });

describe('start-up failures', () => {
  it('a PORT in use rejects listen naming PORT and suggesting another, and closes the store', async () => {
    await withDataDir(async (dir) =>
      withBusyPort(async (port) => {
        const hush = await createHush(loadConfig(env(dir, { PORT: String(port) })), { logger: false });
        await assert.rejects(hush.listen(), (e: Error) => {
          assert.ok(e instanceof StartupError);
          assert.equal(e.code, 'ERR_HUSH_PORT_IN_USE');
          assert.equal(e.setting, 'PORT');
          assert.match(e.message, new RegExp(`^PORT=${port}: the port is already in use on 127\\.0\\.0\\.1; .*set PORT to another port`));
          return true;
        });
        await assert.rejects(hush.store.ping(), 'the store was closed');
      }),
    );
  });

  it('a HUSH_METRICS_PORT in use rejects listen naming HUSH_METRICS_PORT, and the API port it had bound is closed again', async () => {
    await withDataDir(async (dir) =>
      withBusyPort(async (port) => {
        const hush = await createHush(loadConfig(env(dir, { HUSH_METRICS_PORT: String(port) })), { logger: false });
        await assert.rejects(hush.listen(), (e: Error) => e instanceof StartupError && e.setting === 'HUSH_METRICS_PORT' && /^HUSH_METRICS_PORT=\d+: the port is already in use/.test(e.message));
        assert.equal(hush.app.server.listening, false, 'no half-started server answers /healthz');
        await assert.rejects(hush.store.ping(), 'the store was closed');
        await hush.close(); // still safe to call
      }),
    );
  });

  it('an unreachable PostgreSQL is refused naming DATABASE_URL and its host, never the password', async () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://hush:hunter2@127.0.0.1:1/hush',
      HUSH_SECRET: 'unreachable-test-access-secret-0123456789',
      HUSH_REFRESH_SECRET: 'unreachable-test-refresh-secret-0123456789',
    });
    await assert.rejects(createHush(config, { logger: false }), (e: Error) =>
      e instanceof StartupError && e.setting === 'DATABASE_URL' && /^DATABASE_URL: cannot reach the database at 127\.0\.0\.1:1 \(connection refused/.test(e.message) && !e.message.includes('hunter2'),
    );
  });

  it('a REDIS_URL where nothing listens is reported naming REDIS_URL and its host, never the password', async () => {
    await withDataDir(async (dir) => {
      const log = capturingLogger();
      const hush = await createHush(loadConfig(env(dir, { REDIS_URL: 'redis://:hunter2@127.0.0.1:1' })), { logger: log.logger });
      try {
        // The subscriber connects at start; its refusal is reported (polling carries on meanwhile).
        const deadline = Date.now() + 20_000;
        while (!log.lines.some((l) => /\[REDIS_URL: 127\.0\.0\.1:1\]/.test(String(l['msg']))) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const line = log.lines.find((l) => /REDIS_URL/.test(String(l['msg'])));
        assert.ok(line, log.text());
        assert.match(String(line['msg']), /ECONNREFUSED.*\[REDIS_URL: 127\.0\.0\.1:1\]/);
        assert.ok(!log.text().includes('hunter2'));
      } finally {
        await hush.close();
      }
    });
  });

  it('reports the address really listened on: 0.0.0.0 is not 127.0.0.1', () => {
    assert.equal(listenUrl({ address: '0.0.0.0', family: 'IPv4', port: 3000 }), 'http://0.0.0.0:3000');
    assert.equal(listenUrl({ address: '::', family: 'IPv6', port: 3000 }), 'http://[::]:3000');
  });
});

describe('secrets at start', () => {
  it('the first start logs where it wrote the generated secrets and how resource services get the key, never a value', async () => {
    await withDataDir(async (dir) => {
      const log = capturingLogger();
      const hush = await createHush(loadConfig(env(dir)), { logger: log.logger });
      await hush.close();
      const saved = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as { secret: string; refreshSecret: string };
      const line = log.lines.find((l) => l['file'] === join(dir, 'secrets.json'));
      assert.ok(line, log.text());
      assert.match(String(line['msg']), /generated HUSH_SECRET and HUSH_REFRESH_SECRET into .*secrets\.json/);
      assert.match(String(line['msg']), /resource services verify access tokens with the "secret" value of that file: give it to them as their HUSH_SECRET/);
      assert.ok(!log.text().includes(saved.secret) && !log.text().includes(saved.refreshSecret), 'no secret in the log');
      // A later start generates nothing and says nothing of it.
      const again = capturingLogger();
      await (await createHush(loadConfig(env(dir)), { logger: again.logger })).close();
      assert.ok(!again.lines.some((l) => 'file' in l), again.text());
    });
  });

  it('a HUSH_SECRET from the environment is never copied into secrets.json (only the generated refresh secret is kept there)', async () => {
    await withDataDir(async (dir) => {
      const secret = 'environment-only-access-secret-0123456789';
      await (await createHush(loadConfig(env(dir, { HUSH_SECRET: secret })), { logger: false })).close();
      const text = await readFile(join(dir, 'secrets.json'), 'utf8');
      assert.ok(!text.includes(secret));
      assert.deepEqual(Object.keys(JSON.parse(text) as object), ['refreshSecret']);
    });
  });

  it('narrows secrets.json and signing-keys.json found at 0644 to 0600, and the data folder to 0700, with a warning', { skip: process.platform === 'win32' }, async () => {
    await withDataDir(async (dir) => {
      await (await createHush(loadConfig(env(dir, { HUSH_JWT_ALG: 'EdDSA' })), { logger: false })).close();
      await chmod(dir, 0o755);
      await chmod(join(dir, 'secrets.json'), 0o644);
      await chmod(join(dir, 'signing-keys.json'), 0o644);
      const log = capturingLogger();
      await (await createHush(loadConfig(env(dir, { HUSH_JWT_ALG: 'EdDSA' })), { logger: log.logger })).close();
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.equal((await stat(join(dir, 'secrets.json'))).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, 'signing-keys.json'))).mode & 0o777, 0o600);
      const warnings = log.lines.filter((l) => l['level'] === 40 && /narrowed it to/.test(String(l['msg'])));
      assert.equal(warnings.length, 3, log.text());
      assert.match(String(warnings[1]!['msg']), /secrets\.json .*mode 0644.*narrowed it to 0600/);
    });
  });

  it('a HUSH_DATA_DIR below a file is refused at start naming HUSH_DATA_DIR', async () => {
    await withDataDir(async (dir) => {
      await writeFile(join(dir, 'file'), '');
      await assert.rejects(
        createHush(loadConfig({ ...env(dir), HUSH_DATA_DIR: join(dir, 'file', 'data'), DATABASE_URL: join(dir, 'db.sqlite') }), { logger: false }),
        /HUSH_DATA_DIR: .* is a file, not a folder/,
      );
    });
  });
});
