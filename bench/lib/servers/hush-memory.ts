/**
 * The server of `bench/memory.ts`: hush as `hush start` builds it (`createHush(loadConfig(env))`,
 * the same environment), plus a way to read its memory from outside without adding an HTTP route
 * to hush: on an IPC message `{ type: 'sample' }` it collects garbage and answers with
 * `process.memoryUsage()`. Start it with `--expose-gc` and an IPC channel.
 */
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { loadConfig } from '../../../src/config.js';
import { createHush } from '../../../src/server.js';
import { announce } from '../children.js';

/** What the parent asks for. */
export interface SampleRequest {
  readonly type: 'sample';
  readonly id: number;
}

/** The answer to a {@link SampleRequest}. */
export interface SampleReply {
  readonly type: 'memory';
  readonly id: number;
  /** `process.memoryUsage()` after the collections. */
  readonly usage: NodeJS.MemoryUsage;
  /** How long the two collections took, in ms (the event loop stood still meanwhile). */
  readonly gcMs: number;
  /** The process's peak resident set so far (getrusage), in bytes. */
  readonly maxRss: number;
  /** V8's heap spaces after the collections: bytes used and committed (resident or reserved). */
  readonly spaces: readonly { readonly name: string; readonly used: number; readonly committed: number }[];
  /** Collections V8 ran on its own since start (forced ones left out): counts and pause time in ms. */
  readonly gc: GcTotals;
}

/** Running totals of V8's own collections. */
export interface GcTotals {
  majorCount: number;
  majorMs: number;
  minorCount: number;
  minorMs: number;
}

const gc = globalThis.gc;
if (gc === undefined) throw new Error('hush-memory needs node --expose-gc');
if (process.send === undefined) throw new Error('hush-memory needs an IPC channel');

// The pauses of every collection V8 starts by itself (the atomic pause; incremental marking steps
// done between requests are not in it), to tell a heap that is flat because it is small from one
// that is flat because V8 collects it all the time.
const gcTotals: GcTotals = { majorCount: 0, majorMs: 0, minorCount: 0, minorMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number; flags?: number } })[]) {
    const kind = entry.detail?.kind;
    if (((entry.detail?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) continue;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      gcTotals.majorCount++;
      gcTotals.majorMs += entry.duration;
    } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gcTotals.minorCount++;
      gcTotals.minorMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

const hush = await createHush(loadConfig(process.env));
const url = await hush.listen();

process.on('message', (message: SampleRequest) => {
  if (message.type !== 'sample') return;
  const t0 = performance.now();
  // Twice: the first collection runs finalizers and clears weak references whose targets the
  // second one can then free, so the second leaves only what is really reachable.
  gc();
  gc();
  const gcMs = performance.now() - t0;
  const reply: SampleReply = {
    type: 'memory',
    id: message.id,
    usage: process.memoryUsage(),
    gcMs,
    maxRss: process.resourceUsage().maxRSS * 1024,
    spaces: getHeapSpaceStatistics().map((s) => ({ name: s.space_name, used: s.space_used_size, committed: s.space_size })),
    gc: { ...gcTotals },
  };
  process.send!(reply);
});

const stop = (): void => void hush.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
// The parent is gone (it crashed, say): do not outlive it.
process.once('disconnect', stop);

announce({ url });
