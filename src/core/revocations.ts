/**
 * Revocation of access tokens before they expire. Protected routes consult an in-memory table —
 * also on a verified-token cache hit — so checking costs two map lookups and no I/O.
 *
 * The table is fed from the store: every instance loads the live notices at start and polls for new
 * ones every second, so a suspension made by another instance (or by the CLI) takes effect
 * everywhere within about a second. Versions and session ids decide, never timestamps: the token a
 * password change returns carries the new version and stays valid.
 */
import type { Revocation, Store, StoredRevocation } from '../store/types.js';

/** The in-memory table: user id → lowest credential version still valid; revoked session ids. */
export class RevocationList {
  readonly #minVersion = new Map<string, { version: number; expiresAt: number }>();
  readonly #sessions = new Map<string, number>();

  /** Applies a notice (idempotent; a lower version never undoes a higher one). */
  apply(revocation: Revocation): void {
    const expiresAt = revocation.expiresAt.getTime();
    if (revocation.kind === 'user') {
      const current = this.#minVersion.get(revocation.userId);
      if (!current || current.version < revocation.version) {
        this.#minVersion.set(revocation.userId, { version: revocation.version, expiresAt });
      } else if (current.version === revocation.version && current.expiresAt < expiresAt) {
        current.expiresAt = expiresAt;
      }
    } else {
      const current = this.#sessions.get(revocation.sessionId) ?? 0;
      if (current < expiresAt) this.#sessions.set(revocation.sessionId, expiresAt);
    }
  }

  /** Whether a token of user `sub`, session `sid`, issued at credential version `ver`, is revoked. */
  isRevoked(sub: string, sid: string, ver: number): boolean {
    if (this.#minVersion.size > 0) {
      const entry = this.#minVersion.get(sub);
      if (entry !== undefined && ver < entry.version) return true;
    }
    return this.#sessions.size > 0 && this.#sessions.has(sid);
  }

  /** Drops notices whose tokens have all expired. */
  prune(now: number): void {
    for (const [key, entry] of this.#minVersion) if (entry.expiresAt <= now) this.#minVersion.delete(key);
    for (const [key, expiresAt] of this.#sessions) if (expiresAt <= now) this.#sessions.delete(key);
  }

  get size(): number {
    return this.#minVersion.size + this.#sessions.size;
  }
}

/**
 * A user's tokens are all refused (the account is gone): the highest version a credential can
 * have — the largest 32-bit integer, which both engines' version columns hold.
 */
export const DELETED_VERSION = 2_147_483_647;

/**
 * A side channel that tells other instances a notice was committed, so they poll at once rather than
 * at their next tick (Redis pub/sub when `REDIS_URL` is set). Best effort: polling stays.
 */
export interface RevocationAnnouncer {
  /** Tells every subscriber, on every instance, that a notice was committed. Never throws nor waits. */
  announce(): void;
  /** Calls `onChange` on every announcement, until closed. */
  subscribe(onChange: () => void): Promise<{ close(): Promise<void> }>;
  /** Closes the announcer's connections. */
  close(): Promise<void>;
}

/** What the feed needs of a store. */
export type RevocationStore = Pick<Store, 'addRevocation' | 'revocationsSince' | 'watchRevocations'>;

export interface RevocationFeedOptions {
  /** How often to look for notices from other instances, in ms. */
  readonly pollInterval?: number;
  readonly clock?: () => number;
  /** Called when polling fails (the database is down, say); polling goes on. */
  readonly onError?: (error: unknown) => void;
  /** Told of every notice this instance publishes (for metrics). */
  readonly onPublish?: (revocation: Revocation) => void;
  /** Announces published notices and wakes this feed on others' (besides the store's own announcements). */
  readonly announcer?: RevocationAnnouncer;
}

/** Keeps a {@link RevocationList} in step with the store's revocation feed. */
export class RevocationFeed {
  readonly list = new RevocationList();
  readonly #store: RevocationStore;
  readonly #pollInterval: number;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #onPublish: ((revocation: Revocation) => void) | undefined;
  readonly #announcer: RevocationAnnouncer | undefined;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #watches: { close(): Promise<void> }[] = [];
  #polling: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(store: RevocationStore, options: RevocationFeedOptions = {}) {
    this.#store = store;
    this.#pollInterval = options.pollInterval ?? 1000;
    this.#now = options.clock ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
    this.#onPublish = options.onPublish;
    this.#announcer = options.announcer;
  }

  /** Loads the live notices, then follows the feed: announcements where the store has them, and polling. Once. */
  async start(): Promise<void> {
    if (this.#stopped) throw new Error('a stopped revocation feed cannot start again');
    await this.poll();
    if (this.#stopped) return;
    this.#timer = setInterval(() => {
      this.poll().catch(this.#onError);
    }, this.#pollInterval);
    this.#timer.unref();
    const wake = (): void => {
      this.poll().catch(this.#onError);
    };
    await this.#watch(this.#store.watchRevocations(wake));
    if (this.#announcer) await this.#watch(this.#announcer.subscribe(wake));
  }

  /** Keeps a subscription for stop() — or closes it at once if stop() came while it was opening. */
  async #watch(opening: Promise<{ close(): Promise<void> }>): Promise<void> {
    const watch = await opening;
    if (this.#stopped) await watch.close();
    else this.#watches.push(watch);
  }

  /** Stops following the feed. */
  async stop(): Promise<void> {
    // A wake-up or tick from here on polls nothing: the store is about to close under it.
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const watches = this.#watches;
    this.#watches = [];
    await Promise.all(watches.map((watch) => watch.close()));
    await this.#polling?.catch(() => undefined);
  }

  /** Records a notice in the store (for the other instances) and applies it here at once. */
  async publish(revocation: Revocation): Promise<void> {
    this.list.apply(revocation);
    // The feed position is not advanced here: notices of other instances may sit below it unseen.
    await this.#store.addRevocation(revocation);
    // After the commit, so a woken instance finds the notice. A lost announcement costs the others
    // no more than their next poll.
    this.#announcer?.announce();
    this.#onPublish?.(revocation);
  }

  /**
   * Fetches and applies notices newer than the last one seen. One poll at a time; a call during a
   * poll schedules one more after it, so an announcement is never absorbed by a poll that started
   * before the notice was committed.
   */
  poll(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#polling) {
      this.#again = true;
      return this.#polling;
    }
    this.#polling = (async () => {
      try {
        const now = this.#now();
        // The store makes feed positions visible in order, so reading on from the last one misses nothing.
        for (const notice of await this.#store.revocationsSince(this.#seq, new Date(now))) {
          this.list.apply(notice);
          this.#advance(notice);
        }
        this.list.prune(now);
      } finally {
        this.#polling = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.poll().catch(this.#onError);
        }
      }
    })();
    return this.#polling;
  }

  #advance(notice: StoredRevocation): void {
    // Only move forward: a publish may land after a poll that already passed it.
    if (notice.seq > this.#seq) this.#seq = notice.seq;
  }
}
