#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner (TypeScript through tsx).
// Arguments narrow the run to files whose path contains one of them: `npm test -- jwt store`.
// Node's own output (spec on a terminal, TAP otherwise) is kept as is, closing totals included; after it
// comes a two-line summary, since TAP output runs to thousands of lines:
//   1234 passed, 0 failed, 12 skipped
//   duration 301.2 s
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function collect(dir) {
  if (!existsSync(dir)) return [];
  let out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out = out.concat(collect(path));
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = ['src', 'test']
  .flatMap((dir) => collect(dir))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'hush-test-summary-'));
const totalsFile = join(scratch, 'totals.json');
const started = Date.now();
const result = spawnSync(
  process.execPath,
  [
    // resolved from here, so the runner works from any folder
    '--import',
    import.meta.resolve('tsx'),
    '--test',
    // A hung test fails after 3 minutes instead of hanging CI, and a file whose tests are done exits
    // even if something (a browser, a socket) would keep it alive. The timeout bounds each test file as a
    // whole too, so the fresh-clone run (HUSH_FRESH_CLONE_TEST=1: two npm installs) gets 15 minutes.
    '--test-concurrency=2',
    `--test-timeout=${process.env.HUSH_FRESH_CLONE_TEST === '1' ? 900_000 : 180_000}`,
    '--test-force-exit',
    // naming a reporter replaces node's default, so name the default too (spec on a terminal, else TAP)
    `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${import.meta.resolve('./test-summary.mjs')}`,
    '--test-reporter-destination=stderr', // it prints nothing: it writes HUSH_TEST_TOTALS
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, HUSH_TEST_TOTALS: totalsFile } },
);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
let totals = {};
try {
  totals = JSON.parse(readFileSync(totalsFile, 'utf8'));
} catch {
  // the runner died before reporting: say what we know
}
rmSync(scratch, { recursive: true, force: true });
if (typeof totals.pass === 'number' && typeof totals.fail === 'number') {
  // a test cancelled (timed out, or its file crashed) did not pass: it counts as failed
  const failed = (totals.fail ?? 0) + (totals.cancelled ?? 0);
  const skipped = (totals.skipped ?? 0) + (totals.todo ?? 0);
  console.log(`\n${totals.pass} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
} else {
  console.log(`\nno totals: the test runner exited with ${result.status ?? result.signal}`);
}
console.log(`duration ${seconds} s`);
process.exit(result.status ?? 1);
