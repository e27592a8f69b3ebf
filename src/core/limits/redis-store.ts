import { Redis } from 'ioredis';
import { describeError } from '../describe-error.js';
import type { CounterState, CounterStore } from './counter-store.js';
import { createMemoryCounterStore } from './memory-store.js';

/** Options of {@link createRedisCounterStore}. */
export interface RedisCounterStoreOptions {
  /** Prefix of every key. Default `hush:rl:`. */
  prefix?: string;
  /** A command that takes longer fails over to the fallback. Default 500 ms. */
  commandTimeoutMs?: number;
  /** Where counting goes while Redis is unreachable. Default: a fresh memory store. */
  fallback?: CounterStore;
  /** Receives warnings (never with secrets: no URL, no key). Default `console.warn`. */
  warn?: (message: string) => void;
  /** Clock, epoch milliseconds, for `resetAt` (Redis keeps the TTL). */
  now?: () => number;
}

const WARN_INTERVAL_MS = 60_000;

/**
 * Counters in Redis, shared by every instance. A hit is one MULTI transaction (`SET key 0 PX window
 * NX`, `INCR`, `PTTL`), so concurrent hits from many instances count exactly and a window's expiry is
 * set once, by whoever opens it.
 *
 * When Redis is unreachable or slow, counting degrades rather than failing either way: calls go to a
 * per-instance memory store until Redis answers again, and a warning is logged (at most once a
 * minute, naming only the error code). Failing open would hand a password guesser unlimited tries
 * during an outage; failing closed would lock every user out. Per-instance counting keeps every limit
 * in force, only not shared.
 */
export function createRedisCounterStore(redisUrl: string, options: RedisCounterStoreOptions = {}): CounterStore {
  const prefix = options.prefix ?? 'hush:rl:';
  const now = options.now ?? Date.now;
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const fallback = options.fallback ?? createMemoryCounterStore({ now });

  let client: Redis;
  try {
    client = new Redis(redisUrl, {
      // Commands fail at the first failed connection attempt instead of queueing for 20 retries,
      // and a stalled Redis costs a request at most commandTimeout.
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
      // ioredis arms this timer even for an already-dead socket; 2 s of it would delay process exit.
      disconnectTimeout: 200,
    });
  } catch {
    // The URL may carry a password: say what is wrong without repeating it.
    throw new TypeError('the Redis URL is not valid');
  }

  let degraded = false;
  let closing = false;
  let lastWarning = Number.NEGATIVE_INFINITY;
  const warnThrottled = (message: string): void => {
    const t = Date.now();
    if (t - lastWarning < WARN_INTERVAL_MS) return;
    lastWarning = t;
    warn(message);
  };
  const failOver = (error: unknown): void => {
    if (closing) return;
    warnThrottled(
      `hush: rate-limit counters use this instance's memory until Redis answers again (${describeError(error)})`,
    );
  };

  // Without an 'error' listener ioredis would report every failed reconnect as an unhandled error.
  client.on('error', (error: unknown) => {
    degraded = true;
    failOver(error);
  });
  client.on('ready', () => {
    if (degraded && !closing) warn('hush: Redis answers again; rate-limit counters are shared again');
    degraded = false;
    lastWarning = Number.NEGATIVE_INFINITY;
  });

  /** Runs `command` on Redis, or `fallbackCall` while Redis is known to be down or when it fails. */
  const withRedis = async <T>(command: () => Promise<T>, fallbackCall: () => Promise<T>): Promise<T> => {
    if (degraded && client.status !== 'ready') return fallbackCall();
    try {
      return await command();
    } catch (error) {
      failOver(error);
      return fallbackCall();
    }
  };

  const exec = async (transaction: ReturnType<Redis['multi']>): Promise<unknown[]> => {
    const replies = await transaction.exec();
    if (replies === null) throw new Error('transaction aborted');
    return replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  };

  return {
    hit(key, windowMs) {
      const k = prefix + key;
      return withRedis(async () => {
        const [, count, ttl] = await exec(client.multi().set(k, 0, 'PX', windowMs, 'NX').incr(k).pttl(k));
        return { count: Number(count), resetAt: now() + (Number(ttl) > 0 ? Number(ttl) : windowMs) };
      }, () => fallback.hit(key, windowMs));
    },
    peek(key) {
      const k = prefix + key;
      return withRedis<CounterState | undefined>(async () => {
        const [value, ttl] = await exec(client.multi().get(k).pttl(k));
        if (value === null || Number(ttl) <= 0) return undefined;
        return { count: Number(value), resetAt: now() + Number(ttl) };
      }, () => fallback.peek(key));
    },
    set(key, value, ttlMs) {
      const k = prefix + key;
      return withRedis(async () => {
        await client.set(k, value, 'PX', ttlMs);
      }, () => fallback.set(key, value, ttlMs));
    },
    delete(key) {
      const k = prefix + key;
      return withRedis(async () => {
        await client.del(k);
      }, () => fallback.delete(key));
    },
    async close() {
      closing = true;
      // QUIT only makes sense on a live connection; otherwise it would wait on a reconnect attempt.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
      await fallback.close();
    },
  };
}
