/**
 * `npm run bench:http` — hush over HTTP against its peers, side by side in one run, as ratios.
 *
 * Targets (each server its own child process, pinned to core 0 with taskset when available; the load
 * generator, autocannon in this process, pinned to core 1, so the two never share a core):
 *   a. bare Fastify hello route               (bench/lib/servers/bare.ts)
 *   b. Fastify + @fastify/jwt, HS256           (bench/lib/servers/fastify-jwt.ts)
 *   c. `hush start`, default settings: GET /api/private with a valid Bearer token
 *   d. the same with the verified-token cache off (bench/lib/servers/hush-no-cache.ts)
 *   e. `hush start` with HUSH_RATE_LIMIT=off: POST /auth/refresh (stateless, SQLite) with a valid
 *      refresh cookie and X-Requested-With (the default limit, 300 a minute per address, would
 *      otherwise answer 429 within the first second)
 *   f. /api/private on (e)'s server while a second autocannon hammers /auth/login with wrong
 *      passwords, against the same load without the storm; in two layouts: the whole server on one
 *      core (its argon2 thread takes turns with its event loop), and 'split' — the event loop alone on
 *      core 0, every other thread of the server (argon2 runs on libuv's pool) on core 1 at nice 19,
 *      the layout hush is built for (hashing on cores − 1 threads), with the load generator, which in
 *      a real deployment runs elsewhere, keeping first call on core 1.
 *
 * Method: after a warm-up, ROUNDS rounds; in each, every target runs SECONDS at -c 64 in an order that
 * rotates each round. A ratio is the median over rounds of the ratio within a round (neighbouring
 * runs share whatever else the machine was doing). Beside req/s, the server's own CPU time per
 * request (from /proc) is reported: it does not depend on whether the server or the load generator
 * was the bottleneck, nor on other processes taking turns on the core.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer, type TestServer } from '../test/helpers/server.js';
import { cpuSeconds, hasTaskset, machineBusySeconds, pin, pinSplit, startChild, type ChildServer } from './lib/children.js';
import { signUp } from './lib/hush-session.js';
import { runLoad, type LoadOptions, type LoadResult } from './lib/load.js';
import { fmt, median, table } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const WARMUP_SECONDS = 2;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 64);
const STORM_CONNECTIONS = Number(process.env['BENCH_STORM_CONNECTIONS'] ?? 16);
const STORM_ROUNDS = Math.max(3, Math.ceil(ROUNDS * 0.6));
const SERVER_CPU = 0;
const LOADGEN_CPU = 1;

interface StormLayout {
  readonly name: 'one core' | 'split';
  readonly idle: Sample[];
  readonly stormy: Sample[];
  readonly logins: LoadResult[];
}

interface Target {
  readonly key: 'a' | 'b' | 'c' | 'd' | 'e';
  readonly name: string;
  readonly pid: number;
  readonly load: Omit<LoadOptions, 'connections' | 'duration'>;
}

interface Sample extends LoadResult {
  /** Share of one core the server used, in %. */
  readonly serverCpu: number;
  /** Server CPU time per response, in µs. */
  readonly cpuPerRequest: number;
  /** Share of one core this process (the load generator) used, in %. */
  readonly loadgenCpu: number;
  /** CPU the rest of the machine used meanwhile (other processes), in % of one core. */
  readonly otherCpu: number;
}

/** Runs `load` for `seconds` while watching the CPU time of the server `pid`, of this process, and of the machine. */
async function measure(pid: number, load: LoadOptions, extra?: LoadOptions): Promise<{ main: Sample; extra?: LoadResult }> {
  await quiet();
  const server0 = cpuSeconds(pid);
  const self0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const [main, side] = await Promise.all([runLoad(load), extra ? runLoad(extra) : undefined]);
  const elapsed = (performance.now() - t0) / 1000;
  const server = cpuSeconds(pid) - server0;
  const selfUsage = process.cpuUsage(self0);
  const self = (selfUsage.user + selfUsage.system) / 1e6;
  const busy = machineBusySeconds() - busy0;
  const responses = main.responses + (side?.responses ?? 0);
  return {
    main: {
      ...main,
      serverCpu: (100 * server) / elapsed,
      cpuPerRequest: (1e6 * server) / responses,
      loadgenCpu: (100 * self) / elapsed,
      otherCpu: Math.max(0, (100 * (busy - server - self)) / elapsed),
    },
    ...(side ? { extra: side } : {}),
  };
}

let quietBudget = Number(process.env['BENCH_QUIET_WAIT'] ?? 30) * 1000;
let noisyStarts = 0;

/**
 * Waits (within a budget shared by the whole run) until the rest of the machine is quiet: other
 * processes busy on the cores would take turns with the server or the load generator. Between runs
 * the servers are idle, so whatever is busy is someone else.
 */
async function quiet(): Promise<void> {
  const threshold = 25; // % of one core
  for (;;) {
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const ms = performance.now() - t0;
    const busyPct = (100 * (machineBusySeconds() - busy0) * 1000) / ms;
    if (busyPct < threshold || !Number.isFinite(busyPct)) return;
    if (quietBudget <= 0) {
      noisyStarts++;
      return;
    }
    quietBudget -= ms;
  }
}

/** Checks once, outside the timing, that a target answers 2xx, so no run measures an error page. */
async function check(target: Target): Promise<void> {
  const response = await fetch(target.load.url, {
    method: target.load.method ?? 'GET',
    headers: target.load.headers ?? {},
    ...(target.load.body === undefined ? {} : { body: target.load.body }),
  });
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${target.name} answered ${response.status}: ${await response.text()}`);
  }
}

function warn(text: string): void {
  process.stderr.write(`warning: ${text}\n`);
}

function note(sample: LoadResult, what: string): void {
  if (sample.non2xx > 0 || sample.errors > 0) {
    warn(`${what}: ${sample.non2xx} non-2xx (${JSON.stringify(sample.statusCodes)}), ${sample.errors} socket errors`);
  }
}

const started = performance.now();
const pinned = pin(process.pid, LOADGEN_CPU);
const children: ChildServer[] = [];
const hushes: TestServer[] = [];
const dataDirs: string[] = [];
try {
  // --- servers -------------------------------------------------------------------------------
  const bare = await startChild('bench/lib/servers/bare.ts', {}, SERVER_CPU);
  children.push(bare);
  const fastifyJwt = await startChild('bench/lib/servers/fastify-jwt.ts', {}, SERVER_CPU);
  children.push(fastifyJwt);
  const hush = await startServer();
  hushes.push(hush);
  pin(hush.process.pid!, SERVER_CPU);
  const noCacheDir = await mkdtemp(join(tmpdir(), 'hush-bench-'));
  dataDirs.push(noCacheDir);
  const noCache = await startChild(
    'bench/lib/servers/hush-no-cache.ts',
    { HUSH_DATA_DIR: noCacheDir, HOST: '127.0.0.1', PORT: '0' },
    SERVER_CPU,
  );
  children.push(noCache);
  const open = await startServer({ env: { HUSH_RATE_LIMIT: 'off' } });
  hushes.push(open);
  pin(open.process.pid!, SERVER_CPU);

  const hushSession = await signUp(hush.url);
  const noCacheSession = await signUp(noCache.url);
  const openSession = await signUp(open.url);
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  const targets: Target[] = [
    { key: 'a', name: 'a. bare Fastify hello', pid: bare.pid, load: { url: bare.url } },
    { key: 'b', name: 'b. Fastify + @fastify/jwt', pid: fastifyJwt.pid, load: { url: fastifyJwt.url, headers: bearer(fastifyJwt.info['token']!) } },
    { key: 'c', name: 'c. hush /api/private', pid: hush.process.pid!, load: { url: `${hush.url}/api/private`, headers: bearer(hushSession.accessToken) } },
    { key: 'd', name: 'd. hush /api/private, no cache', pid: noCache.pid, load: { url: `${noCache.url}/api/private`, headers: bearer(noCacheSession.accessToken) } },
    {
      key: 'e',
      name: 'e. hush POST /auth/refresh',
      pid: open.process.pid!,
      load: { url: `${open.url}/auth/refresh`, method: 'POST', headers: { cookie: openSession.refreshCookie, 'x-requested-with': 'bench' } },
    },
  ];
  for (const target of targets) await check(target);
  const privateOnOpen: LoadOptions = { url: `${open.url}/api/private`, headers: bearer(openSession.accessToken), connections: CONNECTIONS, duration: SECONDS };
  const storm: LoadOptions = {
    url: `${open.url}/auth/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: openSession.username, password: 'definitely-not-the-password' }),
    connections: STORM_CONNECTIONS,
    duration: SECONDS,
  };

  console.log(`hush HTTP benchmark: ${ROUNDS} rounds × ${SECONDS} s per target, autocannon -c ${CONNECTIONS}, Node ${process.version}`);
  console.log(
    pinned
      ? `servers pinned to CPU ${SERVER_CPU}, load generator (this process) to CPU ${LOADGEN_CPU} (taskset)`
      : 'taskset unavailable: servers and load generator share the CPUs (numbers are less trustworthy)',
  );
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // --- warm-up (JIT, connection pools, SQLite page cache) ---------------------------------------
  for (const target of targets) await runLoad({ ...target.load, connections: CONNECTIONS, duration: WARMUP_SECONDS });
  await runLoad({ ...privateOnOpen, duration: WARMUP_SECONDS });

  // --- a–e: interleaved rounds ------------------------------------------------------------------
  const samples = new Map<Target['key'], Sample[]>(targets.map((t) => [t.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const target of order) {
      const { main } = await measure(target.pid, { ...target.load, connections: CONNECTIONS, duration: SECONDS });
      note(main, `${target.name}, round ${round + 1}`);
      samples.get(target.key)!.push(main);
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }

  // --- f: login storm, in two layouts ------------------------------------------------------------
  // 'one core': the whole server (event loop and argon2 thread) on CPU 0, as on a one-core machine.
  // 'split': the event loop alone on CPU 0, the server's other threads (argon2 runs on libuv's pool)
  // on CPU 1 at the lowest priority — the layout hush is built for (hashing on cores − 1 threads),
  // with the load generator, which on a real deployment is elsewhere, keeping first call on CPU 1.
  const storms: StormLayout[] = [
    { name: 'one core', idle: [], stormy: [], logins: [] },
    { name: 'split', idle: [], stormy: [], logins: [] },
  ];
  for (const layout of storms) {
    if (layout.name === 'split' && !pinSplit(open.process.pid!, SERVER_CPU, LOADGEN_CPU)) continue;
    for (let round = 0; round < STORM_ROUNDS; round++) {
      const runIdle = async (): Promise<void> => {
        layout.idle.push((await measure(open.process.pid!, privateOnOpen)).main);
      };
      const runStorm = async (): Promise<void> => {
        const { main, extra } = await measure(open.process.pid!, privateOnOpen, storm);
        layout.stormy.push(main);
        layout.logins.push(extra!);
      };
      if (round % 2 === 0) {
        await runIdle();
        await runStorm();
      } else {
        await runStorm();
        await runIdle();
      }
      note(layout.idle.at(-1)!, `f. ${layout.name}, idle, round ${round + 1}`);
      note(layout.stormy.at(-1)!, `f. ${layout.name}, storm, round ${round + 1}`);
    }
  }

  // --- report -------------------------------------------------------------------------------------
  const of = (key: Target['key']): Sample[] => samples.get(key)!;
  const med = (list: readonly Sample[], pick: (s: Sample) => number): number => median(list.map(pick));
  const perRound = (x: Target['key'], y: Target['key'], pick: (s: Sample) => number): number[] =>
    of(x).map((s, i) => pick(s) / pick(of(y)[i]!));
  const range = (values: readonly number[], digits: number): string =>
    `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`;

  console.log(`\nPer target (median of ${ROUNDS} rounds; req/s range in brackets)\n`);
  console.log(
    table(
      ['target', 'req/s', '(range)', 'p50 ms', 'p99 ms', 'server CPU %', 'server µs/req', 'load-gen CPU %', 'others CPU %'],
      targets.map((t) => {
        const list = of(t.key);
        return [
          t.name,
          fmt(med(list, (s) => s.rps)),
          `(${range(list.map((s) => s.rps), 0)})`,
          fmt(med(list, (s) => s.p50), 2),
          fmt(med(list, (s) => s.p99), 2),
          fmt(med(list, (s) => s.serverCpu)),
          fmt(med(list, (s) => s.cpuPerRequest), 1),
          fmt(med(list, (s) => s.loadgenCpu)),
          fmt(med(list, (s) => s.otherCpu)),
        ];
      }),
    ),
  );

  const rps = (s: Sample): number => s.rps;
  const inverseCpu = (s: Sample): number => 1 / s.cpuPerRequest;
  const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
  const overBare = (key: 'c' | 'd', pick: (s: Sample) => number): number[] => of(key).map((s, i) => pick(s) - pick(of('a')[i]!));
  const usPerRequest = (s: Sample): number => 1e6 / s.rps;
  const cpuUs = (s: Sample): number => s.cpuPerRequest;
  /** One row: the req/s-based figure with its range and verdict, then the server-CPU-based one and its verdict. */
  const row = (name: string, byRps: number[], byCpu: number[] | undefined, digits: number, target: string, ok?: (v: number) => boolean): string[] => [
    name,
    fmt(median(byRps), digits),
    `(${range(byRps, digits)})`,
    ok ? verdict(ok(median(byRps))) : '',
    byCpu ? fmt(median(byCpu), digits) : '',
    byCpu && ok ? verdict(ok(median(byCpu))) : '',
    target,
  ];
  console.log(`\nRatios (median of per-round ratios; range over rounds). "server CPU" divides the servers' CPU time per request instead of req/s.\n`);
  console.log(
    table(
      ['measure', 'by req/s', '(range)', 'verdict', 'by server CPU', 'verdict', 'target'],
      [
        row('hush / bare Fastify (c/a)', perRound('c', 'a', rps), perRound('c', 'a', inverseCpu), 2, '≥ 0.85', (v) => v >= 0.85),
        row('hush / Fastify+@fastify/jwt (c/b)', perRound('c', 'b', rps), perRound('c', 'b', inverseCpu), 2, '≥ 2.5', (v) => v >= 2.5),
        row('@fastify/jwt / bare (b/a)', perRound('b', 'a', rps), perRound('b', 'a', inverseCpu), 2, '(DESIGN: 0.33–0.45)'),
        row('hush, cache on: µs/req over bare (c−a)', overBare('c', usPerRequest), overBare('c', cpuUs), 1, '—'),
        row('hush, cache off: µs/req over bare (d−a)', overBare('d', usPerRequest), overBare('d', cpuUs), 1, 'aim ≤ 8', (v) => v <= 8),
        row('refresh req/s (e)', of('e').map(rps), of('e').map((s) => 1e6 / s.cpuPerRequest), 0, '≥ 8,500 (10× Better Auth ~850)', (v) => v >= 8500),
        row('refresh p99 ms (e)', of('e').map((s) => s.p99), undefined, 2, '< Better Auth ~1,000 ms', (v) => v < 1000),
        row('refresh / private req/s (e/c)', perRound('e', 'c', rps), perRound('e', 'c', inverseCpu), 3, '—'),
      ],
    ),
  );
  console.log('(refresh "by server CPU" is the req/s one fully busy core would serve: 1e6 / server µs per request)');

  const loginStatuses = (list: readonly LoadResult[]): string => {
    const total: Record<string, number> = {};
    for (const l of list) for (const [code, n] of Object.entries(l.statusCodes)) total[code] = (total[code] ?? 0) + n;
    return Object.entries(total)
      .map(([code, n]) => `${code}×${n}`)
      .join(' ');
  };
  console.log(
    `\nf. /api/private during a login storm (rate limits off; storm: -c ${STORM_CONNECTIONS} wrong-password logins; median of ${STORM_ROUNDS} rounds per layout)\n`,
  );
  const stormRows: string[][] = [];
  for (const layout of storms.filter((l) => l.idle.length > 0)) {
    const cells = (list: readonly Sample[]): string[] => [
      fmt(med(list, rps)),
      fmt(med(list, (s) => s.p50), 2),
      fmt(med(list, (s) => s.p99), 2),
      fmt(med(list, (s) => s.serverCpu)),
      fmt(med(list, (s) => s.loadgenCpu)),
      fmt(med(list, (s) => s.otherCpu)),
    ];
    const ratio = layout.stormy.map((s, i) => s.p99 / layout.idle[i]!.p99);
    stormRows.push([`${layout.name}: idle`, ...cells(layout.idle), '', '', '']);
    stormRows.push([
      `${layout.name}: login storm`,
      ...cells(layout.stormy),
      fmt(median(layout.logins.map((l) => l.rps))),
      loginStatuses(layout.logins),
      `${fmt(median(ratio), 2)} (${range(ratio, 2)}) ${verdict(median(ratio) <= 3)}`,
    ]);
  }
  console.log(
    table(
      ['layout: /api/private', 'req/s', 'p50 ms', 'p99 ms', 'server CPU %', 'load-gen CPU %', 'others CPU %', 'logins/s', 'login answers', 'p99 storm/idle (≤ 3)'],
      stormRows,
    ),
  );
  const all = [...samples.values()].flat().concat(storms.flatMap((l) => [...l.idle, ...l.stormy]));
  const disturbed = all.filter((x) => x.otherCpu > 20).length;
  if (disturbed > 0) {
    console.log(`\nNOISY: in ${disturbed} of ${all.length} runs other processes used more than 20% of a core; trust the server-CPU columns more than req/s, or rerun on a quiet machine`);
  }
  const waited = Number(process.env['BENCH_QUIET_WAIT'] ?? 30) - quietBudget / 1000;
  if (waited > 0.5) console.log(`waited ${fmt(waited)} s in all for other processes to go quiet before runs`);
  if (noisyStarts > 0) console.log(`${noisyStarts} run(s) started while other processes kept the machine busy (quiet-wait budget spent)`);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; total time ${fmt((performance.now() - started) / 1000)} s`);
  if (!hasTaskset) warn('taskset was not available: the load generator competed with the servers for the CPUs');
} finally {
  await Promise.all([...children.map((c) => c.close()), ...hushes.map((h) => h.close())]);
  await Promise.all(dataDirs.map((d) => rm(d, { recursive: true, force: true })));
}
