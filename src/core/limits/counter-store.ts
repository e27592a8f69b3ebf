/**
 * The storage seam of the rate limits: fixed-window counters that expire on their own. One
 * implementation keeps them in this process's memory, the other in Redis so every instance shares them.
 */

/** A counter's state: its count and when its window ends. */
export interface CounterState {
  count: number;
  /** End of the window, epoch milliseconds. */
  resetAt: number;
}

/**
 * Fixed-window counters. A window opens at a key's first `hit` and lasts `windowMs`; later hits in
 * the window count up without moving its end; after it, the key is gone.
 */
export interface CounterStore {
  /** Adds one to `key`, opening a `windowMs` window if none is open, and returns the new state. */
  hit(key: string, windowMs: number): Promise<CounterState>;
  /** The state of `key`, or `undefined` when it has no open window. */
  peek(key: string): Promise<CounterState | undefined>;
  /**
   * Sets `key` to `value` with a fresh window of `ttlMs`, replacing any state it had. Locks are
   * written this way: a store that must evict keeps such values longer than `hit` windows.
   */
  set(key: string, value: number, ttlMs: number): Promise<void>;
  /** Forgets `key`. */
  delete(key: string): Promise<void>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** The answer of a limit: go ahead, or refuse with a `Retry-After` in whole seconds (at least 1). */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfter: number };

/** The decision that lets a request through. */
export const ALLOWED: LimitDecision = Object.freeze({ allowed: true });

/** A refusal until `resetAt`, rounded up to whole seconds so a client that waits is let in. */
export function refuseUntil(resetAt: number, now: number): LimitDecision {
  return { allowed: false, retryAfter: Math.max(1, Math.ceil((resetAt - now) / 1000)) };
}
