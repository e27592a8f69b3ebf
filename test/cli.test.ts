// The hush command, run as a real process against a real data folder.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServer } from './helpers/server.js';

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
});
