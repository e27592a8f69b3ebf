/**
 * Revocation announcements over Redis pub/sub, for clusters with `REDIS_URL`. A message is only a
 * wake-up — "a notice was committed, poll now" — and carries nothing: the notices themselves stay in
 * the database, so whoever can publish on Redis can make instances poll, never forge or drop a notice.
 * A lost message costs at most the poll interval.
 */
import { Redis } from 'ioredis';
import { describeError } from './describe-error.js';
import type { RevocationAnnouncer } from './revocations.js';

/** The channel every hush instance (and every follower) listens on. */
export const REVOCATION_CHANNEL = 'hush:revocations';

/** Options of {@link createRedisAnnouncer}. */
export interface RedisAnnouncerOptions {
  /** Told of connection failures (at most once a minute, naming only the error code). */
  readonly warn?: (message: string) => void;
}

const WARN_INTERVAL_MS = 60_000;

/** Announces and follows revocation notices on `redisUrl` (two connections: publisher and subscriber). */
export function createRedisAnnouncer(redisUrl: string, options: RedisAnnouncerOptions = {}): RevocationAnnouncer {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  let lastWarning = Number.NEGATIVE_INFINITY;
  let closing = false;
  const warnThrottled = (error: unknown): void => {
    if (closing || Date.now() - lastWarning < WARN_INTERVAL_MS) return;
    lastWarning = Date.now();
    warn(`hush: revocation announcements through Redis failed (${describeError(error)}); instances still poll every second`);
  };
  const connect = (role: 'publisher' | 'subscriber'): Redis => {
    let client: Redis;
    try {
      client = new Redis(redisUrl, {
        retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
        disconnectTimeout: 200,
        // A publish fails at once while Redis is away (polling covers for it) instead of queueing;
        // a SUBSCRIBE waits for the connection, and ioredis renews it after every reconnect.
        // The publisher connects at its first announcement: a follower never announces.
        ...(role === 'publisher' ? { maxRetriesPerRequest: 0, commandTimeout: 500, lazyConnect: true } : { maxRetriesPerRequest: null }),
      });
    } catch {
      // The URL may carry a password: say what is wrong without repeating it.
      throw new TypeError('the Redis URL is not valid');
    }
    // Without a listener, ioredis would report every failed reconnect as an unhandled error.
    client.on('error', warnThrottled);
    return client;
  };
  const publisher = connect('publisher');
  const subscribers = new Set<Redis>();
  let scheduled = false;

  return {
    announce() {
      // Not awaited: the request that revoked must not wait on Redis, up or down. Announcements
      // made in one tick (a burst of notices, each already committed) go out as one message; a
      // later one is sent again, since a listener may have polled before its commit.
      if (scheduled || closing) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        publisher.publish(REVOCATION_CHANNEL, '').catch(warnThrottled);
      });
    },
    async subscribe(onChange) {
      const subscriber = connect('subscriber');
      subscribers.add(subscriber);
      subscriber.on('message', (channel: string) => {
        if (channel === REVOCATION_CHANNEL) onChange();
      });
      // Not awaited: a Redis that is down must not hold up startup. A notice committed while Redis
      // was away is found by the next poll.
      subscriber.subscribe(REVOCATION_CHANNEL).catch(() => undefined);
      return {
        async close() {
          subscribers.delete(subscriber);
          subscriber.disconnect();
        },
      };
    },
    async close() {
      closing = true;
      for (const subscriber of subscribers) subscriber.disconnect();
      subscribers.clear();
      if (publisher.status === 'ready') await publisher.quit().catch(() => publisher.disconnect());
      else publisher.disconnect();
    },
  };
}
