/**
 * `npm run bench:refresh` — refresh throughput of both strategies on both databases, each as a
 * ratio to the protected route's throughput on the same server in the same run.
 *
 * Servers: four `hush start` children with HUSH_RATE_LIMIT=off — stateless and rotating, each on
 * SQLite (a fresh data folder) and on PostgreSQL (a fresh database on the local server) — pinned
 * to CPU 0 when taskset exists; the load generator (autocannon, in this process) on CPU 1. The
 * PostgreSQL server is not pinned: its work per request is part of what a refresh costs there, and
 * it takes turns with whichever side it lands on (this machine has what it has).
 *
 * Method: every refresh request presents a valid, current refresh token. Each autocannon connection
 * holds a session of its own (one sign-up per connection, done before timing) and follows the
 * `Set-Cookie` of every response, as a browser would: so with `rotating` every request is a real
 * rotation (a compare-and-swap on the session row), never a reuse inside the grace. The one
 * exception is a request cut off when a run ends: the next run's first request of that session shows
 * the just-replaced token and gets its successor without a rotation — one request per connection per
 * run, reported as "not rotated". Stateless clients follow cookies the same way, so both strategies
 * see the same client behaviour. The protected route is GET /api/private with one valid Bearer token.
 *
 * Rounds: after a warm-up, ROUNDS rounds; in each, for each server, /api/private and refresh run
 * SECONDS each at -c CONNECTIONS, in an order that alternates by round. A server's ratio is the
 * median over rounds of refresh req/s ÷ private req/s within the round (neighbouring runs share
 * whatever else the machine was doing).
 *
 * CPU: beside req/s, each run reports the CPU time per response spent by the hush process and, on
 * PostgreSQL, by the database's backend processes serving it (from /proc). On a machine shared with
 * other work, req/s moves with whatever else runs; CPU per request much less, so the CPU-based ratio
 * (private µs/req ÷ refresh µs/req) is printed as a cross-check, with how busy the rest of the
 * machine was ("others CPU %", in % of one core).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon, { type Options } from 'autocannon';
import pg from 'pg';
import { startServer, type TestServer } from '../test/helpers/server.js';
import { cpuSeconds, machineBusySeconds, pin } from './lib/children.js';
import { signUp } from './lib/hush-session.js';
import { fmt, median, percentile, table } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const WARMUP_SECONDS = 1;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
/** Sessions beyond one per connection, for connections autocannon reopens after an error. */
const SPARE_SESSIONS = 8;
const SERVER_CPU = 0;
const LOADGEN_CPU = 1;
/** `BENCH_PIN=off` leaves every process free to run on any core. */
const PIN = process.env['BENCH_PIN'] !== 'off';
/** `BENCH_ONLY=rotating/sqlite,stateless/postgres` narrows the run to those servers. */
const ONLY = (process.env['BENCH_ONLY'] ?? '').split(',').filter((s) => s.length > 0);

type Strategy = 'stateless' | 'rotating';
type Database = 'sqlite' | 'postgres';

/** A refresh session a connection holds: its refresh cookie as `name=value`. */
interface Slot {
  cookie: string;
}

interface Target {
  readonly strategy: Strategy;
  readonly database: Database;
  readonly server: TestServer;
  readonly accessToken: string;
  readonly slots: Slot[];
  /** PostgreSQL: a connection to the server's database, to find the backends serving it. */
  readonly pg?: pg.Client;
}

/** A run, with the CPU it cost. */
interface Sample extends Run {
  /** hush process CPU time per response, µs. */
  readonly hushUs: number;
  /** PostgreSQL backends' CPU time per response (0 on SQLite), µs. */
  readonly pgUs: number;
  /** CPU used meanwhile by everything else on the machine, in % of one core. */
  readonly othersPct: number;
}

interface Run {
  /** Responses per second, every status counted. */
  readonly rps: number;
  readonly okRps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /** Refresh runs: 2xx responses that set a new refresh cookie, and those that did not. */
  readonly rotated: number;
  readonly notRotated: number;
  /** Refresh runs: sessions taken from the pool (more than the connections means reconnects). */
  readonly slotsTaken: number;
}

/** autocannon's per-request hooks (its types here omit them). */
interface RequestSpec {
  method: 'POST';
  path: string;
  setupRequest(request: { headers: Record<string, string> }, context: { slot?: Slot }): { headers: Record<string, string> };
  onResponse(status: number, body: string, context: { slot?: Slot }, headers: Record<string, string | string[]>): void;
}

/**
 * Runs autocannon and collects exact latencies (its own histogram keeps whole milliseconds).
 * With `slots`, each connection refreshes a session of its own and follows its Set-Cookie.
 */
async function run(options: Options, slots?: Slot[]): Promise<Run> {
  const latencies: number[] = [];
  let rotated = 0;
  let notRotated = 0;
  let slotsTaken = 0;
  let full: Options = options;
  if (slots) {
    const cookieName = slots[0]!.cookie.slice(0, slots[0]!.cookie.indexOf('='));
    // autocannon builds a connection's next request synchronously right after that connection's
    // response hook, and resets the per-request context in between: the hook hands its session
    // over to the very next setupRequest through this variable.
    let handoff: Slot | undefined;
    const spec: RequestSpec = {
      method: 'POST',
      path: '/auth/refresh',
      setupRequest(request, context) {
        let slot = handoff;
        handoff = undefined;
        if (slot === undefined) {
          slot = slots[slotsTaken++];
          if (slot === undefined) throw new Error('more connections than sessions: raise SPARE_SESSIONS');
        }
        context.slot = slot;
        request.headers = { ...request.headers, cookie: slot.cookie, 'x-requested-with': 'bench' };
        return request;
      },
      onResponse(status, _body, context, headers) {
        const slot = context.slot;
        if (!slot) return;
        handoff = slot;
        if (status < 200 || status > 299) return;
        const raw = headers['set-cookie'] ?? headers['Set-Cookie'];
        const set = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).find((c) => c.startsWith(`${cookieName}=`));
        const cookie = set?.split(';', 1)[0];
        if (cookie && cookie !== slot.cookie) {
          slot.cookie = cookie;
          rotated++;
        } else {
          notRotated++;
        }
      },
    };
    full = { ...options, requests: [spec] } as Options;
  }
  const instance = autocannon(full);
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
  });
  const result = await instance;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats)) statusCodes[code] = stat.count;
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    rps: responses / result.duration,
    okRps: result['2xx'] / result.duration,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    rotated,
    notRotated,
    slotsTaken,
  };
}

const privateLoad = (t: Target, duration: number): Options => ({
  url: `${t.server.url}/api/private`,
  headers: { authorization: `Bearer ${t.accessToken}` },
  connections: CONNECTIONS,
  duration,
});
const refreshLoad = (t: Target, duration: number): Options => ({ url: t.server.url, method: 'POST', connections: CONNECTIONS, duration });

/** The PostgreSQL backend processes connected to `t`'s database (but the one asking). */
async function backendPids(t: Target): Promise<number[]> {
  if (!t.pg) return [];
  const { rows } = await t.pg.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
  return rows.map((r) => r.pid);
}

const sumCpu = (pids: readonly number[]): number => pids.reduce((n, pid) => n + (cpuSeconds(pid) || 0), 0);

/** Runs `options` against `t` and accounts the CPU the server (and its database backends) spent. */
async function measure(t: Target, options: Options, slots?: Slot[]): Promise<Sample> {
  await quiet();
  const pids0 = await backendPids(t);
  const pg0 = new Map(pids0.map((pid) => [pid, cpuSeconds(pid) || 0]));
  const hush0 = cpuSeconds(t.server.process.pid!);
  const self0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const r = await run(options, slots);
  const elapsed = (performance.now() - t0) / 1000;
  const busy = machineBusySeconds() - busy0;
  const selfUsage = process.cpuUsage(self0);
  const hush = cpuSeconds(t.server.process.pid!) - hush0;
  // Backends that connected during the run count from zero.
  const pids1 = await backendPids(t);
  const pgCpu = sumCpu(pids1) - pids1.reduce((n, pid) => n + (pg0.get(pid) ?? 0), 0);
  const responses = r.rps * elapsed;
  const self = (selfUsage.user + selfUsage.system) / 1e6;
  return {
    ...r,
    hushUs: (1e6 * hush) / responses,
    pgUs: (1e6 * pgCpu) / responses,
    othersPct: Math.max(0, (100 * (busy - hush - pgCpu - self)) / elapsed),
  };
}

/** Waits briefly (within a small budget for the whole run) for other processes to go quiet. */
let quietBudgetMs = Number(process.env['BENCH_QUIET_WAIT'] ?? 15) * 1000;
async function quiet(): Promise<void> {
  while (quietBudgetMs > 0) {
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ms = performance.now() - t0;
    const busyPct = (100 * (machineBusySeconds() - busy0) * 1000) / ms;
    if (!(busyPct >= 25)) return;
    quietBudgetMs -= ms;
  }
}

function warnAbout(r: Run, what: string): void {
  if (r.non2xx > 0 || r.errors > 0) {
    process.stderr.write(`warning: ${what}: ${r.non2xx} non-2xx (${JSON.stringify(r.statusCodes)}), ${r.errors} socket errors\n`);
  }
}

const started = performance.now();
const pinned = PIN && pin(process.pid, LOADGEN_CPU);
const servers: TestServer[] = [];
const clients: pg.Client[] = [];
try {
  const targets: Target[] = [];
  for (const database of ['sqlite', 'postgres'] as const) {
    for (const strategy of ['stateless', 'rotating'] as const) {
      if (ONLY.length > 0 && !ONLY.includes(`${strategy}/${database}`)) continue;
      const server = await startServer({ database, env: { HUSH_RATE_LIMIT: 'off', HUSH_REFRESH_STRATEGY: strategy } });
      servers.push(server);
      // Sign-ups hash passwords: done before pinning, on every core, four at a time.
      const sessions = [];
      for (let i = 0; i < CONNECTIONS + SPARE_SESSIONS; i += 4) {
        sessions.push(...(await Promise.all([0, 1, 2, 3].map(() => signUp(server.url)))));
      }
      let client: pg.Client | undefined;
      if (database === 'postgres') {
        client = new pg.Client({ connectionString: server.env['DATABASE_URL'] });
        client.on('error', () => undefined);
        await client.connect();
        clients.push(client);
      }
      targets.push({
        strategy,
        database,
        server,
        accessToken: sessions[0]!.accessToken,
        slots: sessions.map((s) => ({ cookie: s.refreshCookie })),
        ...(client ? { pg: client } : {}),
      });
    }
  }
  if (pinned) for (const t of targets) pin(t.server.process.pid!, SERVER_CPU);

  console.log(`hush refresh benchmark: ${ROUNDS} rounds × ${SECONDS} s per run, autocannon -c ${CONNECTIONS}, Node ${process.version}`);
  console.log(
    pinned
      ? `servers pinned to CPU ${SERVER_CPU}, load generator to CPU ${LOADGEN_CPU}; PostgreSQL unpinned`
      : 'taskset unavailable: servers, PostgreSQL and the load generator share the CPUs',
  );
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  for (const t of targets) {
    await run(privateLoad(t, WARMUP_SECONDS));
    await run(refreshLoad(t, WARMUP_SECONDS), t.slots);
  }

  const samples = new Map<Target, { priv: Sample[]; refresh: Sample[] }>(targets.map((t) => [t, { priv: [], refresh: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
      const s = samples.get(t)!;
      const name = `${t.strategy}/${t.database}, round ${round + 1}`;
      const runPrivate = async (): Promise<void> => {
        const r = await measure(t, privateLoad(t, SECONDS));
        warnAbout(r, `${name} /api/private`);
        s.priv.push(r);
      };
      const runRefresh = async (): Promise<void> => {
        const r = await measure(t, refreshLoad(t, SECONDS), t.slots);
        warnAbout(r, `${name} refresh`);
        s.refresh.push(r);
      };
      if (round % 2 === 0) {
        await runPrivate();
        await runRefresh();
      } else {
        await runRefresh();
        await runPrivate();
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }

  const name = (t: Target): [string, string] => [t.strategy, t.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'];
  const range = (values: readonly number[], digits: number): string =>
    `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
  const cpu = (r: Sample): number => r.hushUs + r.pgUs;
  const main = targets.map((t) => {
    const { priv, refresh } = samples.get(t)!;
    return [
      ...name(t),
      fmt(median(priv.map((r) => r.rps))),
      fmt(median(refresh.map((r) => r.rps))),
      range(refresh.map((r, i) => r.rps / priv[i]!.rps), 3),
      range(refresh.map((r, i) => cpu(priv[i]!) / cpu(r)), 3),
      `${fmt(median(refresh.map((r) => r.p50)), 2)} / ${fmt(median(refresh.map((r) => r.p99)), 2)}`,
    ];
  });
  const details = targets.map((t) => {
    const { priv, refresh } = samples.get(t)!;
    const sum = (pick: (r: Run) => number): number => refresh.reduce((n, r) => n + pick(r), 0);
    return [
      ...name(t),
      fmt(median(priv.map(cpu)), 1),
      fmt(median(refresh.map((r) => r.hushUs)), 1),
      t.database === 'postgres' ? fmt(median(refresh.map((r) => r.pgUs)), 1) : '—',
      `${fmt(sum((r) => r.rotated))} / ${fmt(sum((r) => r.notRotated))}`,
      fmt(sum((r) => r.non2xx + r.errors)),
      fmt(median([...priv, ...refresh].map((r) => r.othersPct))),
    ];
  });
  console.log(`\nRefresh throughput as a ratio to GET /api/private on the same server (medians over ${ROUNDS} rounds; range in brackets)\n`);
  console.log(
    table(['strategy', 'database', '/api/private req/s', 'refresh req/s', 'refresh / private (req/s)', 'refresh / private (CPU)', 'refresh p50 / p99 ms'], main),
  );
  console.log(`\nCPU per response (µs; hush process, and PostgreSQL backends), responses, machine noise\n`);
  console.log(
    table(['strategy', 'database', 'private µs/req', 'refresh µs/req hush', 'refresh µs/req PG', 'new cookie / not', 'refresh non-2xx', 'others CPU %'], details),
  );
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; total time ${fmt((performance.now() - started) / 1000)} s`);
} finally {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.close()));
}
