/**
 * `npm run bench:memory` — hush's memory target (DESIGN.md): heap after GC flat over a 60 s soak
 * under load (≤ 10% growth), and RSS ≤ 100 MB after 1M requests with `--max-old-space-size=64`.
 *
 * Server: one child, `node --max-old-space-size=64 --expose-gc` running `lib/servers/hush-memory.ts`
 * (`createHush(loadConfig(env))`, SQLite in a fresh temporary folder, HUSH_RATE_LIMIT=off), pinned to
 * CPU 0; the load generator (autocannon, in this process) on CPU 1. Memory is read from outside with
 * no HTTP route added to hush: over an IPC channel the child collects garbage twice and answers with
 * `process.memoryUsage()`; this process reads the child's `/proc/<pid>/status` (VmRSS, VmHWM) beside.
 *
 * Tokens: BENCH_USERS users sign up, then BENCH_TOKENS distinct access tokens are minted through
 * hush's own `POST /auth/refresh` (stateless refresh: every answer is a new token with its own jti).
 * The pool is larger than the verified-token cache (10 000 entries), so the cache stays full and
 * evicts all the time: its bound is part of what is measured.
 *
 * Load: a fixed mix, real HTTP, -c BENCH_CONNECTIONS: 90% `GET /api/private` with a token drawn
 * uniformly from the pool, 5% `POST /auth/refresh` (a user's refresh cookie), 2.5% a garbage Bearer
 * token and 2.5% a pool token with a forged signature (both 401). Every answer is checked against
 * the status its kind must get. Phases: warm-up (BENCH_WARMUP_SECONDS), the soak (BENCH_SOAK_SECONDS,
 * heap sampled at its start and every BENCH_SAMPLE_SECONDS), then as many requests as it takes to
 * reach BENCH_REQUESTS load requests in all; then RSS is read. The server issues hour-long access
 * tokens, so the pool outlives even a slow run.
 *
 * The server runs as JavaScript compiled by esbuild, not through tsx (whose loader thread and
 * compiled sources add ~30 MB to the resident set); BENCH_TSX=1 runs it through tsx instead.
 * BENCH_OLD_SPACE_MB (default 64) and BENCH_NODE_FLAGS (extra Node flags, space-separated) try other
 * settings; the targets are judged whatever they are.
 *
 * Exits 1 on an answer its kind should not get (a 5xx, say), on socket errors or timeouts, if the
 * child dies (an out-of-memory crash under 64 MB of old space is a finding, printed with the child's
 * last words), or when a target is MISSED.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon, { type Instance, type Options, type RequestParams, type Result } from 'autocannon';
import { build } from 'esbuild';
import { cpuSeconds, pin, startChild, type ChildServer } from './lib/children.js';
import { signUp, type Session } from './lib/hush-session.js';
import type { SampleReply, SampleRequest } from './lib/servers/hush-memory.js';
import { fmt, median, table } from './lib/stats.js';

/** A positive integer from the environment, or `fallback`. */
function count(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return value;
}

const REQUESTS = count('BENCH_REQUESTS', 1_000_000);
const SOAK_SECONDS = count('BENCH_SOAK_SECONDS', 60);
const SAMPLE_SECONDS = count('BENCH_SAMPLE_SECONDS', 10);
const WARMUP_SECONDS = count('BENCH_WARMUP_SECONDS', 10);
const TOKENS = count('BENCH_TOKENS', 25_000);
const USERS = count('BENCH_USERS', 8);
const CONNECTIONS = count('BENCH_CONNECTIONS', 64);
/** hush's default verified-token cache size (server.ts), printed beside the pool size. */
const TOKEN_CACHE = 10_000;
const OLD_SPACE_MB = count('BENCH_OLD_SPACE_MB', 64);
const HEAP_GROWTH_GOAL = 0.1;
const RSS_GOAL_MB = 100;
/** Extra Node flags for the server, space-separated (`--max-semi-space-size=4`, say), to try a deployment's settings. */
const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '').split(/\s+/).filter((f) => f.length > 0);
/** `BENCH_TSX=1` runs the server's TypeScript through tsx, as the other benchmarks do, instead of a compiled bundle. */
const TSX = process.env['BENCH_TSX'] === '1';
const SERVER_CPU = 0;
const LOADGEN_CPU = 1;
const MB = 1024 * 1024;

type Kind = 'private' | 'refresh' | 'garbage' | 'forged';
/** The per-connection context autocannon carries from a request's setup to its response. */
type MixContext = { kind?: Kind };

/** The status each kind of request must get; anything else fails the run. */
const EXPECTED: Readonly<Record<Kind, number>> = { private: 200, refresh: 200, garbage: 401, forged: 401 };
/** One cycle of the mix, 40 requests: 36 private (90%), 2 refresh (5%), 1 garbage, 1 forged. */
const CYCLE: readonly Kind[] = [...Array<Kind>(18).fill('private'), 'refresh', 'garbage', ...Array<Kind>(18).fill('private'), 'refresh', 'forged'];
const KINDS: readonly Kind[] = ['private', 'refresh', 'garbage', 'forged'];

/** One reading of the child's memory. */
interface Sample {
  readonly label: string;
  /** Load requests answered so far (warm-up included). */
  readonly requests: number;
  readonly reply: SampleReply;
  /** `/proc/<pid>/status` VmRSS just before asking (under whatever load ran), bytes. */
  readonly vmRssBefore: number;
  /** VmRSS once the child answered (after its collections), bytes. */
  readonly vmRssAfter: number;
  /** performance.now() when the answer came. */
  readonly at: number;
}

/** A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`); NaN where /proc is missing. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const mb = (bytes: number, digits = 1): string => fmt(bytes / MB, digits);
const pct = (ratio: number): string => `${ratio >= 0 ? '+' : ''}${fmt(ratio * 100, 1)}%`;
const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');

/** The server child, its last words, and how it ended if it did. */
class Server {
  readonly child: ChildServer;
  /** Set when the child exits on its own: its exit code or signal. */
  death: string | undefined;
  #stderr = '';
  #closing = false;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve(reply: SampleReply): void; reject(error: Error): void }>();
  readonly #onDeath: (() => void)[] = [];

  constructor(child: ChildServer) {
    this.child = child;
    const proc = child.process;
    // Only the tail matters (an out-of-memory report); keep a bounded window of it.
    proc.stderr!.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)));
    proc.on('message', (message: SampleReply) => {
      this.#pending.get(message.id)?.resolve(message);
      this.#pending.delete(message.id);
    });
    proc.once('exit', (code, signal) => {
      if (this.#closing) return;
      this.death = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      for (const { reject } of this.#pending.values()) reject(new Error(`the server ${this.death}`));
      this.#pending.clear();
      for (const callback of this.#onDeath) callback();
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Calls `callback` if the child dies (now, if it already has). */
  onDeath(callback: () => void): void {
    if (this.death !== undefined) callback();
    else this.#onDeath.push(callback);
  }

  /** Asks the child to collect garbage and report its memory. */
  async sample(label: string, requests: number): Promise<Sample> {
    const pid = this.child.pid;
    const vmRssBefore = procStatus(pid, 'VmRSS');
    const id = ++this.#nextId;
    const reply = await new Promise<SampleReply>((resolve, reject) => {
      if (this.death !== undefined) return reject(new Error(`the server ${this.death}`));
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error('the server did not answer a memory sample within 30 s'));
      }, 30_000);
      this.#pending.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      const request: SampleRequest = { type: 'sample', id };
      this.child.process.send(request);
    });
    return { label, requests, reply, vmRssBefore, vmRssAfter: procStatus(pid, 'VmRSS'), at: performance.now() };
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.child.close();
  }
}

/** The request mix: its token pool, and every answer counted by kind and status. */
class Mix {
  readonly #tokens: readonly string[];
  readonly #cookies: readonly string[];
  #next = 0;
  /** Load requests answered, every phase. */
  responses = 0;
  readonly statuses = new Map<Kind, Map<number, number>>(KINDS.map((k) => [k, new Map()]));
  unexpected = 0;
  /** The first few unexpected answers, for the report. */
  readonly examples: string[] = [];

  constructor(tokens: readonly string[], sessions: readonly Session[]) {
    this.#tokens = tokens;
    this.#cookies = sessions.map((s) => s.refreshCookie);
  }

  #token(): string {
    return this.#tokens[Math.floor(Math.random() * this.#tokens.length)]!;
  }

  /** Builds the next request of the cycle (autocannon's `setupRequest`). */
  setup(request: RequestParams, context: MixContext): RequestParams {
    const kind = CYCLE[this.#next++ % CYCLE.length]!;
    context.kind = kind;
    switch (kind) {
      case 'private':
        return { ...request, method: 'GET', path: '/api/private', headers: { authorization: `Bearer ${this.#token()}` } };
      case 'refresh': {
        const cookie = this.#cookies[this.#next % this.#cookies.length]!;
        return { ...request, method: 'POST', path: '/auth/refresh', headers: { cookie, 'x-requested-with': 'bench' } };
      }
      case 'garbage':
        // Fresh each time, so nothing about it can be remembered by the server.
        return { ...request, method: 'GET', path: '/api/private', headers: { authorization: `Bearer ${randomBytes(30).toString('base64url')}` } };
      case 'forged': {
        // A real header and payload with a signature that is not the server's (HS256: 32 bytes).
        const token = this.#token();
        const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${randomBytes(32).toString('base64url')}`;
        return { ...request, method: 'GET', path: '/api/private', headers: { authorization: `Bearer ${forged}` } };
      }
    }
  }

  /** Counts an answer (autocannon's `onResponse`). */
  record(status: number, body: string, context: MixContext): void {
    const kind = context.kind;
    if (kind === undefined) return;
    this.responses++;
    const counts = this.statuses.get(kind)!;
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (status !== EXPECTED[kind]) {
      this.unexpected++;
      if (this.examples.length < 5) this.examples.push(`${kind}: ${status} ${body.slice(0, 200)}`);
    }
  }

  /** autocannon options for the mix against `url`, for `duration` seconds or `amount` responses. */
  options(url: string, run: { duration: number } | { amount: number }): Options {
    return {
      url,
      connections: CONNECTIONS,
      pipelining: 1,
      ...run,
      requests: [
        {
          setupRequest: (request: RequestParams, context: MixContext) => this.setup(request, context),
          onResponse: (status: number, body: string, context: MixContext) => this.record(status, body, context),
        },
      ],
    };
  }
}

/** One load phase as it went. */
interface Phase {
  readonly name: string;
  readonly responses: number;
  readonly seconds: number;
  readonly errors: number;
  /** CPU used by the server and by this process (the load generator), in % of one core. */
  readonly serverCpu: number;
  readonly loadCpu: number;
}

/** Runs autocannon, stopping it early if the server dies; resolves with the phase's numbers. */
async function runPhase(name: string, server: Server, mix: Mix, options: Options, during?: (instance: Instance) => Promise<void>): Promise<Phase> {
  const before = mix.responses;
  const server0 = cpuSeconds(server.child.pid);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const instance = autocannon(options);
  server.onDeath(() => instance.stop());
  if (during) await during(instance).catch((error: unknown) => {
    instance.stop();
    throw error;
  });
  const result: Result = await instance;
  const seconds = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  return {
    name,
    responses: mix.responses - before,
    seconds,
    errors: result.errors,
    serverCpu: (100 * (cpuSeconds(server.child.pid) - server0)) / seconds,
    loadCpu: (100 * (self.user + self.system)) / 1e6 / seconds,
  };
}

/** Signs up `USERS` users and mints `TOKENS` distinct access tokens through `POST /auth/refresh`. */
async function mintTokens(url: string): Promise<{ sessions: Session[]; tokens: string[]; seconds: number }> {
  const sessions: Session[] = [];
  // Sign-ups hash passwords (on the server's one core): a few at a time is enough.
  for (let i = 0; i < USERS; i += 4) {
    sessions.push(...(await Promise.all(Array.from({ length: Math.min(4, USERS - i) }, () => signUp(url)))));
  }
  const tokens = new Set<string>();
  const failures: string[] = [];
  let next = 0;
  const t0 = performance.now();
  const result = await autocannon({
    url,
    connections: Math.min(16, TOKENS),
    pipelining: 1,
    amount: TOKENS,
    requests: [
      {
        setupRequest: (request: RequestParams) => ({
          ...request,
          method: 'POST',
          path: '/auth/refresh',
          headers: { cookie: sessions[next++ % sessions.length]!.refreshCookie, 'x-requested-with': 'bench' },
        }),
        onResponse: (status: number, body: string) => {
          if (status === 200) tokens.add((JSON.parse(body) as { access_token: string }).access_token);
          else if (failures.length < 5) failures.push(`${status} ${body.slice(0, 200)}`);
        },
      },
    ],
  });
  const seconds = (performance.now() - t0) / 1000;
  if (tokens.size < TOKENS) {
    throw new Error(`minted ${tokens.size} distinct tokens of ${TOKENS} (${result.errors} socket errors; ${failures.join('; ') || 'no failed answers'})`);
  }
  return { sessions, tokens: [...tokens], seconds };
}

const root = fileURLToPath(new URL('../', import.meta.url));
const SERVER_SCRIPT = 'bench/lib/servers/hush-memory.ts';

/**
 * Compiles the server to one JavaScript file, its npm packages left as imports, so that the child
 * runs plain Node as a deployment does: tsx would add its loader thread (a second V8 heap) and the
 * compiled sources to the resident set, ~30 MB here, which is not hush's. The file goes under
 * node_modules/.cache so those imports resolve; every `import.meta.url` keeps its source file's URL.
 */
async function bundleServer(): Promise<string> {
  const outdir = join(root, 'node_modules/.cache/hush-bench');
  await build({
    entryPoints: [join(root, SERVER_SCRIPT)],
    outdir,
    outExtension: { '.js': '.mjs' },
    // Modules hush imports dynamically (pg, ioredis, prom-client behind them) stay in chunks of their
    // own, loaded only when configured, as in the compiled package; one file would load them all.
    splitting: true,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    logLevel: 'warning',
    plugins: [
      {
        name: 'source-import-meta-url',
        setup(plugin) {
          plugin.onLoad({ filter: /\.ts$/ }, async (args) => ({
            contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  return join(outdir, 'hush-memory.mjs');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const started = performance.now();
const pinned = pin(process.pid, LOADGEN_CPU);
const dataDir = await mkdtemp(join(tmpdir(), 'hush-memory-'));
let server: Server | undefined;
let failed = false;
const fail = (message: string): void => {
  failed = true;
  console.log(`FAILED: ${message}`);
};

try {
  const script = TSX ? SERVER_SCRIPT : await bundleServer();
  server = new Server(
    await startChild(
      script,
      // Access tokens live an hour rather than 10 minutes: a server slowed down by its collector must
      // not see the pool expire before the run ends (the lifetime changes nothing else it keeps).
      { HUSH_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', HUSH_RATE_LIMIT: 'off', HUSH_ACCESS_TTL: '1h' },
      SERVER_CPU,
      { nodeArgs: [`--max-old-space-size=${OLD_SPACE_MB}`, '--expose-gc', ...NODE_FLAGS], ipc: true, tsx: TSX },
    ),
  );
  const { url, pid } = server.child;
  console.log(
    `hush memory benchmark: Node ${process.version}; server: node --max-old-space-size=${OLD_SPACE_MB} --expose-gc ${NODE_FLAGS.map((f) => `${f} `).join('')}` +
      `${TSX ? `--import tsx ${SERVER_SCRIPT}` : `(${SERVER_SCRIPT} compiled by esbuild)`}, SQLite, HUSH_RATE_LIMIT=off`,
  );
  console.log(pinned ? `server pinned to CPU ${SERVER_CPU}, load generator to CPU ${LOADGEN_CPU}` : 'taskset unavailable: server and load generator share the CPUs');
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const samples: Sample[] = [await server.sample('started', 0)];
  const minted = await mintTokens(url);
  console.log(
    `tokens: ${USERS} users signed up; ${fmt(minted.tokens.length)} distinct access tokens minted by POST /auth/refresh in ` +
      `${fmt(minted.seconds, 1)} s (${fmt(minted.tokens.length / minted.seconds)} req/s); the verified-token cache holds ${fmt(TOKEN_CACHE)}`,
  );
  console.log(
    `mix, -c ${CONNECTIONS}: 90% GET /api/private (token uniform over the pool: ~${fmt((100 * Math.min(1, TOKEN_CACHE / minted.tokens.length)))}% cache hits at best), ` +
      '5% POST /auth/refresh, 2.5% garbage Bearer (401), 2.5% forged signature (401)',
  );
  samples.push(await server.sample('tokens minted', 0));

  const mix = new Mix(minted.tokens, minted.sessions);
  // Peak resident set during the load phases, read every half second (VmHWM also counts start-up).
  let peakRss = 0;
  const poll = setInterval(() => {
    const rss = procStatus(pid, 'VmRSS');
    if (rss > peakRss) peakRss = rss;
  }, 500);
  const phases: Phase[] = [];
  const soak: Sample[] = [];
  /** Soak throughput per sampling interval, req/s. */
  const intervalRps: number[] = [];
  try {
    phases.push(await runPhase('warm-up', server, mix, mix.options(url, { duration: WARMUP_SECONDS })));
    if (server.death === undefined) {
      phases.push(
        await runPhase('soak', server, mix, mix.options(url, { duration: SOAK_SECONDS + 3600 }), async (instance) => {
          const t0 = performance.now();
          let last = { at: t0, responses: mix.responses };
          for (let k = 0; k * SAMPLE_SECONDS <= SOAK_SECONDS && server!.death === undefined; k++) {
            await sleep(t0 + k * SAMPLE_SECONDS * 1000 - performance.now());
            const at = performance.now();
            if (k > 0) intervalRps.push(((mix.responses - last.responses) * 1000) / (at - last.at));
            last = { at, responses: mix.responses };
            const s = await server!.sample(`soak ${fmt((at - t0) / 1000)} s`, mix.responses);
            soak.push(s);
            process.stderr.write(`${s.label}: heap used ${mb(s.reply.usage.heapUsed)} MB after GC, rss ${mb(s.reply.usage.rss)} MB\n`);
          }
          instance.stop();
        }),
      );
    }
    const remaining = REQUESTS - mix.responses;
    if (server.death === undefined && remaining > 0) {
      const progress = setInterval(() => process.stderr.write(`to the total: ${fmt(mix.responses)} of ${fmt(REQUESTS)} requests\n`), 15_000);
      try {
        phases.push(await runPhase('to the total', server, mix, mix.options(url, { amount: Math.max(remaining, CONNECTIONS) })));
      } finally {
        clearInterval(progress);
      }
    }
  } catch (error) {
    if (server.death === undefined) throw error;
  } finally {
    clearInterval(poll);
  }

  const final = server.death === undefined ? await server.sample(`after ${fmt(mix.responses)} requests`, mix.responses) : undefined;
  const hwm = procStatus(pid, 'VmHWM');
  samples.push(...soak);
  if (final) samples.push(final);

  console.log('\nLoad phases\n');
  console.log(
    table(
      ['phase', 'requests', 'seconds', 'req/s', 'server CPU %', 'load generator CPU %', 'socket errors'],
      phases.map((p) => [p.name, fmt(p.responses), fmt(p.seconds, 1), fmt(p.responses / p.seconds), fmt(p.serverCpu), fmt(p.loadCpu), fmt(p.errors)]),
    ),
  );
  if (intervalRps.length > 0) {
    console.log(`soak req/s per ${SAMPLE_SECONDS} s interval: median ${fmt(median(intervalRps))} (${fmt(Math.min(...intervalRps))}–${fmt(Math.max(...intervalRps))})`);
  }

  console.log('\nMemory samples (each after two forced full collections in the server; MB)\n');
  console.log(
    table(
      ['when', 'requests', 'heap used', 'heap total', 'external', 'array buffers', 'rss', 'VmRSS before GC', 'VmRSS after', 'forced GC ms', 'V8 major GC/s', 'GC pause %'],
      samples.map((s, i) => {
        // V8's own collections since the previous sample: how hard it worked to keep the heap where it is.
        const previous = samples[i - 1];
        const seconds = previous ? (s.at - previous.at) / 1000 : Number.NaN;
        const majors = previous ? s.reply.gc.majorCount - previous.reply.gc.majorCount : Number.NaN;
        const pauseMs = previous ? s.reply.gc.majorMs + s.reply.gc.minorMs - previous.reply.gc.majorMs - previous.reply.gc.minorMs : Number.NaN;
        return [
          s.label,
          fmt(s.requests),
          mb(s.reply.usage.heapUsed),
          mb(s.reply.usage.heapTotal),
          mb(s.reply.usage.external),
          mb(s.reply.usage.arrayBuffers),
          mb(s.reply.usage.rss),
          mb(s.vmRssBefore),
          mb(s.vmRssAfter),
          fmt(s.reply.gcMs, 1),
          fmt(majors / seconds, 1),
          fmt(pauseMs / seconds / 10, 1),
        ];
      }),
    ),
  );
  const last = samples[samples.length - 1]!;
  console.log(`\nV8 heap spaces at "${last.label}" (MB): ${last.reply.spaces.map((sp) => `${sp.name} ${mb(sp.used)} used / ${mb(sp.committed)} committed`).join('; ')}`);

  console.log('\nTargets\n');
  if (soak.length >= 2) {
    const heap = soak.map((s) => s.reply.usage.heapUsed);
    const n = Math.min(3, Math.floor(heap.length / 2));
    const firstLast = heap[heap.length - 1]! / heap[0]! - 1;
    const lastFirst3 = median(heap.slice(-n)) / median(heap.slice(0, n)) - 1;
    console.log(
      `heap used after GC over the ${fmt((soak.length - 1) * SAMPLE_SECONDS)} s soak: ${mb(heap[0]!)} → ${mb(heap[heap.length - 1]!)} MB, ` +
        `${pct(firstLast)} first → last: ${verdict(firstLast <= HEAP_GROWTH_GOAL)} (≤ ${fmt(HEAP_GROWTH_GOAL * 100)}%)`,
    );
    console.log(
      `  median of the last ${n} / median of the first ${n}: ${mb(median(heap.slice(-n)))} / ${mb(median(heap.slice(0, n)))} MB, ${pct(lastFirst3)}: ` +
        `${verdict(lastFirst3 <= HEAP_GROWTH_GOAL)} (≤ ${fmt(HEAP_GROWTH_GOAL * 100)}%)`,
    );
    if (firstLast > HEAP_GROWTH_GOAL || lastFirst3 > HEAP_GROWTH_GOAL) failed = true;
  } else if (server.death === undefined) {
    fail(`only ${soak.length} soak sample(s): no heap trend`);
  }
  if (final) {
    // The judged figure: the larger of the kernel's count right after the load and Node's after the collections.
    const rss = Math.max(final.vmRssBefore, final.reply.usage.rss);
    console.log(
      `RSS after ${fmt(mix.responses)} requests: VmRSS ${mb(final.vmRssBefore)} MB right after the load, process.memoryUsage().rss ` +
        `${mb(final.reply.usage.rss)} MB after GC: ${verdict(rss <= RSS_GOAL_MB * MB)} (≤ ${RSS_GOAL_MB} MB)`,
    );
    if (rss > RSS_GOAL_MB * MB) failed = true;
    if (mix.responses < REQUESTS) fail(`only ${fmt(mix.responses)} of ${fmt(REQUESTS)} requests were answered`);
  }
  console.log(
    `peak RSS: ${mb(peakRss)} MB during the load (VmRSS every 0.5 s); VmHWM ${mb(hwm)} MB and getrusage maxRSS ` +
      `${mb((final ?? samples[samples.length - 1]!).reply.maxRss)} MB over the server's whole life, start-up included`,
  );

  console.log('\nAnswers by kind (status: count)\n');
  console.log(
    table(
      ['kind', 'expected', 'answers'],
      KINDS.map((k) => [k, String(EXPECTED[k]), [...mix.statuses.get(k)!].map(([status, n]) => `${status}: ${fmt(n)}`).join(', ') || '—']),
    ),
  );
  if (mix.unexpected > 0) fail(`${fmt(mix.unexpected)} unexpected answers, e.g.\n  ${mix.examples.join('\n  ')}`);
  const errors = phases.reduce((n, p) => n + p.errors, 0);
  if (errors > 0) fail(`${fmt(errors)} socket errors or timeouts`);
  if (server.death !== undefined) {
    fail(`the server ${server.death} after ${fmt(mix.responses)} requests; its last output:\n${server.stderr.trim() || '(none)'}`);
  }
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; total time ${fmt((performance.now() - started) / 1000)} s`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
  if (server?.death !== undefined) console.log(`the server ${server.death}; its last output:\n${server.stderr.trim() || '(none)'}`);
} finally {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
