import type { CounterState, CounterStore } from './counter-store.js';

/** Options of {@link createMemoryCounterStore}. */
export interface MemoryCounterStoreOptions {
  /** Most keys kept; beyond it the oldest window is dropped. Default 100 000 (about 22 MB of heap when full). */
  maxKeys?: number;
  /** Clock, epoch milliseconds; injectable so tests need not sleep. */
  now?: () => number;
  /** How often expired keys are swept. Default 60 s. */
  sweepIntervalMs?: number;
}

/**
 * Counters in this process's memory, for a single instance. Memory is bounded: expired keys are
 * swept by an unref'd timer (it never keeps the process alive), and at `maxKeys` the oldest window
 * is evicted first, which is the one that would have expired soonest among windows of one length.
 */
export function createMemoryCounterStore(options: MemoryCounterStoreOptions = {}): CounterStore {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be an integer >= 1');
  const now = options.now ?? Date.now;
  // Map keeps insertion order; re-inserting on every new window keeps the oldest windows first.
  const entries = new Map<string, CounterState>();

  const live = (key: string): CounterState | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.resetAt > now()) return entry;
    entries.delete(key);
    return undefined;
  };

  const insert = (key: string, state: CounterState): void => {
    entries.delete(key);
    if (entries.size >= maxKeys) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    entries.set(key, state);
  };

  const sweep = (): void => {
    const t = now();
    for (const [key, entry] of entries) if (entry.resetAt <= t) entries.delete(key);
  };
  const timer = setInterval(sweep, options.sweepIntervalMs ?? 60_000);
  timer.unref();

  return {
    async hit(key, windowMs) {
      const entry = live(key);
      if (entry !== undefined) {
        entry.count++;
        return { ...entry };
      }
      const fresh = { count: 1, resetAt: now() + windowMs };
      insert(key, fresh);
      return { ...fresh };
    },
    async peek(key) {
      const entry = live(key);
      return entry === undefined ? undefined : { ...entry };
    },
    async set(key, value, ttlMs) {
      insert(key, { count: value, resetAt: now() + ttlMs });
    },
    async delete(key) {
      entries.delete(key);
    },
    async close() {
      clearInterval(timer);
      entries.clear();
    },
  };
}
