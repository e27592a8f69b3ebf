import type { CounterState, CounterStore } from './counter-store.js';

/** Options of {@link createMemoryCounterStore}. */
export interface MemoryCounterStoreOptions {
  /**
   * Most keys kept. Beyond it the oldest window opened by `hit` is dropped; values written by `set`
   * (the throttle's locks) go only when no such window is left. Default 100 000 (about 22 MB of heap
   * when full).
   */
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
 *
 * Keys written by `set` are held apart and evicted only when no `hit` window is left: the throttle
 * writes its locks with `set`, and a flood of cheap windows (requests from many addresses, guesses
 * at many usernames) must not wipe the lock that stops a guesser. A `hit` on a held key keeps it held.
 */
export function createMemoryCounterStore(options: MemoryCounterStoreOptions = {}): CounterStore {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be an integer >= 1');
  const now = options.now ?? Date.now;
  // Maps keep insertion order; re-inserting on every new window keeps the oldest windows first.
  // `windows` holds what `hit` opened, `held` what `set` wrote (locks); a key is in one of them.
  const windows = new Map<string, CounterState>();
  const held = new Map<string, CounterState>();

  const live = (key: string): CounterState | undefined => {
    const entry = windows.get(key) ?? held.get(key);
    if (entry === undefined) return undefined;
    if (entry.resetAt > now()) return entry;
    forget(key);
    return undefined;
  };

  const forget = (key: string): void => {
    if (!windows.delete(key)) held.delete(key);
  };

  const dropOldest = (map: Map<string, CounterState>): boolean => {
    const oldest = map.keys().next();
    if (oldest.done) return false;
    map.delete(oldest.value);
    return true;
  };

  const insert = (key: string, state: CounterState, into: Map<string, CounterState>): void => {
    forget(key);
    if (windows.size + held.size >= maxKeys && !dropOldest(windows)) dropOldest(held);
    into.set(key, state);
  };

  const sweep = (): void => {
    const t = now();
    for (const map of [windows, held]) for (const [key, entry] of map) if (entry.resetAt <= t) map.delete(key);
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
      insert(key, fresh, windows);
      return { ...fresh };
    },
    async peek(key) {
      const entry = live(key);
      return entry === undefined ? undefined : { ...entry };
    },
    async set(key, value, ttlMs) {
      insert(key, { count: value, resetAt: now() + ttlMs }, held);
    },
    async delete(key) {
      forget(key);
    },
    async close() {
      clearInterval(timer);
      windows.clear();
      held.clear();
    },
  };
}
