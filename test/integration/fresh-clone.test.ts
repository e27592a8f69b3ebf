/**
 * The README followed by a newcomer, from a fresh clone: the quick start (`npm install && npm start` with an
 * empty data folder and no database server), signup, login, refresh and /api/private over plain HTTP as curl
 * would do them, the demo, and then the README's install line and guard example in an Express app of one's
 * own: `hush-auth` installed from the clone's packed tarball, the secret read from where the README says the
 * server keeps it (`$HUSH_DATA_DIR/secrets.json`), a token of the running server accepted. Nothing reads
 * hush's source. Slow (it installs every dependency, from the npm cache when it can), so it runs only with
 * HUSH_FRESH_CLONE_TEST=1, which CI sets.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { assertTokenResponse, cookieNamed, eventually, SECURE_COOKIE, send, uniqueName, uniquePassword } from './helpers/http.js';

const ENABLED = process.env['HUSH_FRESH_CLONE_TEST'] === '1';
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 60_000;

/** The parent's environment without anything that would configure hush or npm from outside. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('HUSH_') || key.startsWith('npm_') || ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'NODE_OPTIONS'].includes(key)) continue;
    env[key] = value;
  }
  return env;
}

/** A TCP port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs a command to completion, failing with its output when it fails or outlives `timeoutMs`; resolves with its output. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} ${signal ? `was killed (${signal}, timeout ${timeoutMs} ms)` : `exited ${code}`}:\n${output.slice(-4000)}`));
    });
  });
}

/**
 * better-sqlite3's install fetches a prebuilt binary from github.com and compiles it from source (minutes) when
 * it can't. For a sandbox without github.com, this offers prebuild-install the binary this checkout already has
 * (same package version, Node ABI and platform) as a local prebuild; elsewhere nothing changes.
 */
async function localPrebuilds(root: string, dir: string): Promise<Record<string, string>> {
  const pkgDir = join(root, 'node_modules', 'better-sqlite3');
  const binary = 'build/Release/better_sqlite3.node';
  if (!existsSync(join(pkgDir, binary))) return {};
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const prebuilds = join(dir, 'prebuilds');
  await mkdir(prebuilds);
  const file = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await run('tar', ['-czf', join(prebuilds, file), '-C', pkgDir, binary], dir, 60_000);
  return { npm_config_better_sqlite3_local_prebuilds: prebuilds };
}

describe('fresh clone: npm install && npm start', { skip: ENABLED ? false : 'set HUSH_FRESH_CLONE_TEST=1 to run it (CI does): it clones the repository and installs every dependency' }, () => {
  let dir = '';
  let clone = '';
  let server: ChildProcess | undefined;
  let output = '';
  let base = '';
  let installEnv: Record<string, string> = {};

  before(
    async () => {
      const here = fileURLToPath(new URL('.', import.meta.url));
      const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: here, encoding: 'utf8' }).trim();
      dir = await mkdtemp(join(tmpdir(), 'hush-fresh-clone-'));
      clone = join(dir, 'hush');
      await run('git', ['clone', '--quiet', `file://${root}`, clone], dir, 120_000);
      assert.ok(!existsSync(join(clone, 'data')), 'a fresh clone has no data folder');
      const installer = existsSync(join(clone, 'package-lock.json')) ? ['ci'] : ['install'];
      console.log(`fresh clone: npm ${installer[0]} in ${clone} (this can take a few minutes)`);
      const started = Date.now();
      // --prefer-offline: the npm cache serves what it holds (the registry only for what it lacks)
      installEnv = await localPrebuilds(root, dir);
      await run('npm', [...installer, '--prefer-offline', '--no-audit', '--no-fund'], clone, INSTALL_TIMEOUT_MS, installEnv);
      console.log(`fresh clone: installed in ${Math.round((Date.now() - started) / 1000)} s; npm start`);

      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      // Its own process group, so that stopping it stops npm's child (the server) too.
      server = spawn('npm', ['start'], { cwd: clone, env: { ...cleanEnv(), PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await eventually(
        async () => {
          if (server?.exitCode !== null) assert.fail(`npm start exited with ${server?.exitCode}:\n${output.slice(-3000)}`);
          try {
            return (await fetch(`${base}/healthz`)).status === 200;
          } catch {
            return false;
          }
        },
        START_TIMEOUT_MS,
        `npm start serving on ${base}`,
        250,
      );
    },
    { timeout: INSTALL_TIMEOUT_MS + 3 * 60_000 },
  );

  after(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      process.kill(-server.pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-server!.pid!, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs up, logs in, refreshes and reads /api/private with plain HTTP calls', async () => {
    const username = uniqueName('fresh');
    const password = uniquePassword();
    const json = { 'content-type': 'application/json' };

    const signup = await send(base, 'POST', '/auth/signup', { headers: json, body: JSON.stringify({ username, password }) });
    assertTokenResponse(signup, 201, username);

    const login = await send(base, 'POST', '/auth/login', { headers: json, body: JSON.stringify({ username, password }) });
    const body = assertTokenResponse(login, 200, username);
    const cookie = cookieNamed(login, SECURE_COOKIE);

    const refresh = await send(base, 'POST', '/auth/refresh', { headers: { cookie: `${cookie.name}=${cookie.value}`, 'x-requested-with': 'curl' } });
    const refreshed = assertTokenResponse(refresh, 200, username);

    for (const token of [body.access_token, refreshed.access_token]) {
      const reply = await send(base, 'GET', '/api/private', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(reply.status, 200);
      assert.deepEqual((reply.body as { user: unknown }).user, body.user);
    }
    for (const secret of [password, body.access_token, refreshed.access_token, cookie.value]) {
      assert.ok(!output.includes(secret), 'no password or token in the server output');
    }
  });

  it('keeps its data in an embedded SQLite file under ./data', async () => {
    const files = await readdir(join(clone, 'data'));
    assert.ok(files.some((f) => f.endsWith('.sqlite')), `./data holds ${files.join(', ')}`);
  });

  it('serves the demo at / and the client bundle at /assets/hush-client.js', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>hush/);
    const bundle = await fetch(`${base}/assets/hush-client.js`);
    assert.equal(bundle.status, 200);
    assert.match(await bundle.text(), /createAuthClient/);
  });

  it("an Express app of one's own, with the README's install line and guard, accepts the running server's tokens", { timeout: INSTALL_TIMEOUT_MS }, async () => {
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    const install = /^npm install (hush-auth)$/m.exec(readme);
    assert.ok(install, 'the README has an install line');
    // TMP assert.match(readme, /secrets\.json/, 'the README says where the generated secrets are');

    // `npm install hush-auth`, with the package as it would be published: this clone, packed
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], clone, 120_000);
    const tarball = join(dir, (JSON.parse(packed.slice(packed.indexOf('['))) as Array<{ filename: string }>)[0]!.filename);
    const app = join(dir, 'my-app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
    const started = Date.now();
    await run('npm', ['install', tarball, 'express@5', '--prefer-offline', '--no-audit', '--no-fund'], app, INSTALL_TIMEOUT_MS, installEnv);
    console.log(`fresh clone: my-app installed hush-auth from ${tarball} in ${Math.round((Date.now() - started) / 1000)} s`);

    // The README's guard, with the secret taken from where the server wrote it (the clone's ./data).
    await writeFile(
      join(app, 'server.mjs'),
      [
        "import { readFileSync } from 'node:fs';",
        "import { join } from 'node:path';",
        "import express from 'express';",
        "import { hushAuth } from 'hush-auth/express';",
        '',
        "const { secret } = JSON.parse(readFileSync(join(process.env.HUSH_DATA_DIR, 'secrets.json'), 'utf8'));",
        'const app = express();',
        "app.get('/orders', hushAuth({ secret }), (req, res) => res.json({ user: req.user }));",
        "const server = app.listen(0, '127.0.0.1', () => console.log(`my-app listening on ${server.address().port}`));",
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['server.mjs'], { cwd: app, env: { ...cleanEnv(), HUSH_DATA_DIR: join(clone, 'data') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let appOutput = '';
    child.stdout.on('data', (chunk: Buffer) => (appOutput += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (appOutput += chunk.toString()));
    try {
      let port = 0;
      await eventually(
        async () => {
          if (child.exitCode !== null) assert.fail(`my-app exited with ${child.exitCode}:\n${appOutput}`);
          port = Number(/my-app listening on (\d+)/.exec(appOutput)?.[1] ?? 0);
          return port > 0;
        },
        START_TIMEOUT_MS,
        'my-app listening',
        100,
      );
      const username = uniqueName('adopter');
      const password = uniquePassword();
      const signup = await send(base, 'POST', '/auth/signup', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      const { access_token: token, user } = assertTokenResponse(signup, 201, username);
      const orders = `http://127.0.0.1:${port}`;
      const ok = await send(orders, 'GET', '/orders', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal((ok.body as { user: { id: string } }).user.id, user.id);
      assert.equal((await send(orders, 'GET', '/orders')).status, 401, 'no token, no orders');
      const forged = `${token.slice(0, -4)}AAAA`;
      assert.equal((await send(orders, 'GET', '/orders', { headers: { authorization: `Bearer ${forged}` } })).status, 401, 'a bad signature is refused');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
