// `npm test` (scripts/test.mjs) keeps node's own report and ends with a summary a person can find:
// "N passed, N failed[, N skipped]" alone on a line, then the duration.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const runner = fileURLToPath(new URL('../scripts/test.mjs', import.meta.url));

/** Runs `npm test` in `dir` as a person would: not as a child of this test run (NODE_TEST_CONTEXT). */
function npmTest(dir: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  return spawnSync(process.execPath, [runner], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
}

const FIXTURE = `
import { describe, it } from 'node:test';
describe('fixture', () => {
  it('passes', () => {});
  it('passes too', () => {});
  it('fails', () => { throw new Error('on purpose'); });
  it('times out', { timeout: 100 }, () => new Promise((resolve) => setTimeout(resolve, 10_000)));
  it('is skipped', { skip: true }, () => {});
});
`;

describe('npm test', () => {
  it('ends with "N passed, N failed, N skipped" on a line of its own, then the duration, after node\'s own totals', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-npm-test-'));
    try {
      mkdirSync(join(dir, 'test'));
      writeFileSync(join(dir, 'test', 'fixture.test.ts'), FIXTURE);
      const run = npmTest(dir);
      assert.equal(run.status, 1, 'a failure fails the run');
      const lines = run.stdout.trimEnd().split('\n');
      assert.match(run.stdout, /^# pass 2$/m, "node's TAP totals are still there, for CI");
      assert.match(run.stdout, /^# fail 1$/m);
      // the timed-out test did not pass: it counts as failed
      assert.equal(lines.at(-2), '2 passed, 2 failed, 1 skipped');
      assert.match(lines.at(-1)!, /^duration \d+\.\d s$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves out the skipped count when nothing was skipped, and exits 0 when all pass', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-npm-test-'));
    try {
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src', 'ok.test.ts'), `import { it } from 'node:test';\nit('passes', () => {});\n`);
      const run = npmTest(dir);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const lines = run.stdout.trimEnd().split('\n');
      assert.equal(lines.at(-2), '1 passed, 0 failed');
      assert.match(lines.at(-1)!, /^duration \d+\.\d s$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
