/**
 * `hush keys rotate` on a running EdDSA server, without a restart: the new key is published in the
 * JWKS at the next reload, signs only once its publish lead has passed, and tokens signed with the
 * old key keep working. The server runs in this process (createHush) so the reload interval and
 * lead can be short; the rotation is the real CLI against the same data folder.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { decode } from '../../src/jwt/index.js';
import { createHush, type Hush } from '../../src/server.js';
import { runCli } from '../helpers/server.js';

const RELOAD_MS = 200;
const LEAD_MS = 3000;

describe('signing-key rotation while running (EdDSA)', () => {
  let dir: string;
  let hush: Hush;
  let url: string;
  const env = (): Record<string, string> => ({ HUSH_DATA_DIR: dir, HUSH_JWT_ALG: 'EdDSA', HUSH_RATE_LIMIT: 'off' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hush-rotation-'));
    hush = await createHush(loadConfig({ ...env(), PORT: '0' }), {
      logger: false,
      keyRotation: { reloadIntervalMs: RELOAD_MS, publishLeadMs: LEAD_MS },
    });
    url = await hush.listen();
  });
  after(async () => {
    await hush?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const kidOf = (token: string): unknown => decode(token).header['kid'];
  const publishedKids = async (): Promise<string[]> => {
    const response = await fetch(`${url}/.well-known/jwks.json`);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=60');
    return ((await response.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  };
  const signup = async (username: string): Promise<string> => {
    const response = await fetch(`${url}/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'correct horse battery staple' }),
    });
    assert.equal(response.status, 201);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const privateStatus = async (token: string): Promise<number> =>
    (await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${token}` } })).status;

  it('publishes the new key first, signs with it after the lead, and keeps accepting the old key’s tokens', async () => {
    const before = await signup('before-rotation');
    const oldKid = kidOf(before);
    assert.deepEqual(await publishedKids(), [oldKid]);

    const rotated = await runCli(['keys', 'rotate'], { env: env() });
    assert.equal(rotated.code, 0, rotated.stderr);
    const rotatedAt = Date.now();
    const newKid = /key (\S+):/.exec(rotated.stdout)?.[1];
    assert.ok(newKid, rotated.stdout);

    // Published at the next reload …
    const deadline = Date.now() + 5 * RELOAD_MS + 1000;
    while (!(await publishedKids()).includes(newKid)) {
      assert.ok(Date.now() < deadline, 'the new key was never published');
      await sleep(50);
    }
    // … while tokens are still signed with the old key, until the lead has passed.
    if (Date.now() - rotatedAt < LEAD_MS - 1000) assert.equal(kidOf(await signup('during-lead')), oldKid);

    await sleep(Math.max(0, rotatedAt + LEAD_MS + 3 * RELOAD_MS - Date.now()));
    const after = await signup('after-rotation');
    assert.equal(kidOf(after), newKid, 'new tokens are signed with the new key');
    assert.deepEqual((await publishedKids()).sort(), [oldKid, newKid].sort());
    assert.equal(await privateStatus(after), 200);
    assert.equal(await privateStatus(before), 200, 'a token signed with the old key still works');
  });
});
