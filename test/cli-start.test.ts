// hush start as a real process: misconfiguration refused naming the setting, start-up failures exiting 1, start-up warnings.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startServer } from './helpers/server.js';

/** A fresh, empty data folder for one test. */
async function freshDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'hush-cli-fresh-'));
}

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
