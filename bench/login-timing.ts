/**
 * `npm run bench:login` — does a failed login take the same time whether or not the user exists?
 * (CONTRACT: "unknown user and wrong password give the same 401 invalid_credentials, in about the
 * same time"; the goal is a difference under 15%.)
 *
 * Method: a real `hush start` in a child process (rate limits off, else the 11th failure is a 429),
 * one signed-up user, then N attempts of each kind over real HTTP, one at a time, interleaved in
 * pairs whose order alternates, so drift (thermal, GC, other load) hits both kinds alike. Each
 * attempt uses a fresh username or a fresh wrong password. The first few of each are warm-up.
 */
import { performance } from 'node:perf_hooks';
import { startServer } from '../test/helpers/server.js';
import { randomUsername, signUp } from './lib/hush-session.js';
import { fmt, median, percentile, table } from './lib/stats.js';

const ATTEMPTS = Number(process.env['BENCH_ATTEMPTS'] ?? 60);
const WARMUP = 5;
const GOAL = 0.15;

async function attempt(url: string, username: string, password: string): Promise<number> {
  const body = JSON.stringify({ username, password });
  const start = performance.now();
  const response = await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 401 || !text.includes('"invalid_credentials"')) {
    throw new Error(`expected 401 invalid_credentials, got ${response.status}: ${text}`);
  }
  return ms;
}

const server = await startServer({ env: { HUSH_RATE_LIMIT: 'off' } });
try {
  const user = await signUp(server.url);
  const unknown: number[] = [];
  const wrong: number[] = [];
  let wrongCount = 0;
  const tryUnknown = async (): Promise<number> => attempt(server.url, randomUsername('nobody'), 'not-the-password-123');
  const tryWrong = async (): Promise<number> => attempt(server.url, user.username, `wrong-password-${wrongCount++}`);
  for (let i = 0; i < ATTEMPTS + WARMUP; i++) {
    // Alternate which kind goes first, so neither always follows the other.
    let u: number;
    let w: number;
    if (i % 2 === 0) {
      u = await tryUnknown();
      w = await tryWrong();
    } else {
      w = await tryWrong();
      u = await tryUnknown();
    }
    if (i < WARMUP) continue;
    unknown.push(u);
    wrong.push(w);
  }

  const row = (name: string, ms: number[]): string[] => [
    name,
    String(ms.length),
    fmt(median(ms), 2),
    fmt(percentile(ms, 90), 2),
    fmt(Math.min(...ms), 2),
    fmt(Math.max(...ms), 2),
  ];
  console.log(`\nFailed logins over HTTP, sequential, interleaved (${server.url}, rate limits off)\n`);
  console.log(table(['attempt', 'n', 'median ms', 'p90 ms', 'min ms', 'max ms'], [row('unknown username', unknown), row('known user, wrong password', wrong)]));
  const medianRatio = median(unknown) / median(wrong);
  const p90Ratio = percentile(unknown, 90) / percentile(wrong, 90);
  const verdict = (ratio: number): string => `${fmt(Math.abs(ratio - 1) * 100, 1)}% ${Math.abs(ratio - 1) < GOAL ? 'ok' : 'MISSED'}`;
  console.log('');
  console.log(table(
    ['ratio unknown / wrong password', 'value', `difference (goal < ${GOAL * 100}%)`],
    [
      ['median', fmt(medianRatio, 3), verdict(medianRatio)],
      ['p90', fmt(p90Ratio, 3), verdict(p90Ratio)],
    ],
  ));
  if (Math.abs(medianRatio - 1) >= GOAL) process.exitCode = 1;
} finally {
  await server.close();
}
