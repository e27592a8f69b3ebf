// The hush command as a newcomer meets it (a real process): help and version at every level, clear wording, pasted tokens, flag warnings.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './helpers/server.js';

/** A fresh, empty data folder for one test. */
async function freshDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'hush-cli-fresh-'));
}

describe('CLI rough edges', () => {
  it('accepts a token pasted with its "Bearer " scheme (or the whole Authorization header), and needs no configuration', async () => {
    const token = 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhYmMifQ.c2ln';
    for (const pasted of [`Bearer ${token}\n`, `Authorization: Bearer ${token}`, `bearer   ${token}`]) {
      const decoded = await runCli(['token', 'decode'], { stdin: pasted, env: { HUSH_LOG_LEVEL: 'banana' } });
      assert.equal(decoded.code, 0, decoded.stderr);
      assert.equal((JSON.parse(decoded.stdout) as { payload: { sub: string } }).payload.sub, 'abc');
    }
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
    const result = await runCli(['user', 'create'], { env: { HUSH_DATA_DIR: join(tmpdir(), 'hush-cli-unused') } });
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
