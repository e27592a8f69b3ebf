import { addressKey } from './address.js';
import { ALLOWED, refuseUntil, type CounterStore, type LimitDecision } from './counter-store.js';

/** Per-address request buckets: `auth` is shared by login and signup; `refresh` is its own. */
export type RequestBucket = 'auth' | 'refresh';

/** Options of {@link RequestLimiter}. */
export interface RequestLimiterOptions {
  /** Login + signup requests per address per window. Default 100. */
  auth?: number;
  /** Refresh requests per address per window. Default 300. */
  refresh?: number;
  /** Window. Default one minute. */
  windowMs?: number;
  /** Clock, epoch milliseconds. */
  now?: () => number;
}

/**
 * Per-address request caps (contract, "Rate limits"): every request counts, whatever its outcome,
 * and the one past the cap is refused until the address's window ends. Addresses are grouped by
 * {@link addressKey} (IPv6 per /64), so pass the raw client IP.
 */
export class RequestLimiter {
  readonly #store: CounterStore;
  readonly #limits: Readonly<Record<RequestBucket, number>>;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(store: CounterStore, options: RequestLimiterOptions = {}) {
    this.#store = store;
    this.#limits = { auth: options.auth ?? 100, refresh: options.refresh ?? 300 };
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    for (const [name, value] of Object.entries({ ...this.#limits, windowMs: this.#windowMs })) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
    }
  }

  /** Counts one request of `bucket` from `address` and says whether to serve it. */
  async hit(bucket: RequestBucket, address: string): Promise<LimitDecision> {
    if (bucket !== 'auth' && bucket !== 'refresh') throw new TypeError('unknown request bucket');
    const { count, resetAt } = await this.#store.hit(`req:${bucket}:${addressKey(address)}`, this.#windowMs);
    return count > this.#limits[bucket] ? refuseUntil(resetAt, this.#now()) : ALLOWED;
  }
}
