// The browser client's no-bundler URL, /assets/hush-client.js, is part of the server, not of the demo.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer, type TestServer } from '../helpers/server.js';
import { BASE_ENV } from './helpers/suite.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the client bundle at /assets/hush-client.js', () => {
  let server: TestServer;

  before(async () => {
    // the server lists dist/client at start-up: build it first
    const build = spawnSync(process.execPath, ['scripts/build-client.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    server = await startServer({ env: { ...BASE_ENV, HUSH_DEMO: 'off' } });
  });

  after(async () => {
    await server?.close();
  });

  it('is served with HUSH_DEMO=off, as a JavaScript module exporting createAuthClient', async () => {
    const res = await fetch(`${server.url}/assets/hush-client.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await res.text(), /createAuthClient/);
  });

  it('while the demo page itself is not served with HUSH_DEMO=off', async () => {
    for (const path of ['/', '/index.html', '/app.js']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
    }
  });
});
