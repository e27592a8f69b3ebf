import { createHash } from 'node:crypto';
import { addressKey } from './address.js';
import { ALLOWED, refuseUntil, type CounterStore, type LimitDecision } from './counter-store.js';

/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Password checks allowed per (username, address) pair in a window. Default 10. */
  maxFailuresPerPair?: number;
  /** Password checks allowed per known device (a valid device-cookie entry) in a window. Default 10. */
  maxFailuresPerDevice?: number;
  /** Window of the counts. Default 15 minutes. */
  windowMs?: number;
  /** Failures of one username, across all addresses, before each further one locks it. Default 20. */
  usernameThreshold?: number;
  /** The k-th failure beyond the threshold locks the username for min(2^k × this, max). Default 1 s. */
  usernameBaseDelayMs?: number;
  /** Longest username lock. Default 15 minutes. */
  usernameMaxDelayMs?: number;
  /** Clock, epoch milliseconds. */
  now?: () => number;
}

/**
 * A browser known to be the user's: it presents a valid device-cookie entry for the account
 * (verified by the caller, see src/core/device-tokens.ts).
 */
export interface KnownDevice {
  /** The entry's random id. */
  readonly id: string;
  /** The account the entry is for. */
  readonly userId: string;
}

/**
 * Throttles password guessing (contract, "Rate limits"). Two counts, both keyed on the case-folded
 * username, never on whether the account exists, so unknown usernames are throttled the same way:
 *
 * - per (username, address): the 11th check in a window is refused, a correct password included,
 *   until the window (opened by the pair's first attempt) ends;
 * - per username, across addresses: beyond `usernameThreshold` failures in a window, each further
 *   failure locks the username for a doubling delay (2 s, 4 s, … up to 15 min) and keeps the
 *   count until a whole window has passed after the lock, so spreading guesses over many addresses gains little.
 *
 * Attempts from a {@link KnownDevice} are counted per device instead (the 11th in a window is
 * refused) and are exempt from both counts above: whatever strangers do to the username, its owner
 * still signs in from a browser they signed in from before (OWASP's device cookies).
 *
 * Protocol: call {@link check} before verifying a password and refuse on `allowed: false`; then
 * {@link recordFailure} or {@link recordSuccess}. `check` counts the attempt against the pair up
 * front, so a burst of parallel requests cannot all pass before the failures land; a success clears
 * the pair's count again.
 *
 * Keys are SHA-256 digests of the JSON-encoded parts: no separator can make two usernames collide,
 * and the store never holds a raw username (people type passwords into username fields).
 */
export class LoginThrottle {
  readonly #store: CounterStore;
  readonly #maxPerPair: number;
  readonly #maxPerDevice: number;
  readonly #windowMs: number;
  readonly #threshold: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #now: () => number;

  constructor(store: CounterStore, options: LoginThrottleOptions = {}) {
    this.#store = store;
    this.#maxPerPair = positiveInteger('maxFailuresPerPair', options.maxFailuresPerPair ?? 10);
    this.#maxPerDevice = positiveInteger('maxFailuresPerDevice', options.maxFailuresPerDevice ?? 10);
    this.#windowMs = positiveInteger('windowMs', options.windowMs ?? 15 * 60_000);
    this.#threshold = positiveInteger('usernameThreshold', options.usernameThreshold ?? 20);
    this.#baseDelayMs = positiveInteger('usernameBaseDelayMs', options.usernameBaseDelayMs ?? 1000);
    this.#maxDelayMs = positiveInteger('usernameMaxDelayMs', options.usernameMaxDelayMs ?? 15 * 60_000);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Before a password check: may this (username, address) try now, or this known device, when the
   * attempt presents one for the account? Counts the attempt.
   */
  async check(username: string, address: string, device?: KnownDevice): Promise<LimitDecision> {
    if (device !== undefined) return this.#count(deviceKey(device), this.#maxPerDevice);
    const user = foldUsername(username);
    const lock = await this.#store.peek(lockKey(user));
    if (lock !== undefined) return refuseUntil(lock.resetAt, this.#now());
    return this.#count(pairKey(user, address), this.#maxPerPair);
  }

  /**
   * After a failed password check (wrong password, unknown user, wrong current password). The pair
   * (or the known device) was counted by {@link check}; this counts the username-wide failure and
   * sets its lock, except for a known device, whose failures never lock the account for others.
   * `address` is part of the call so callers pass what identifies the attempt.
   */
  async recordFailure(username: string, _address: string, device?: KnownDevice): Promise<void> {
    if (device !== undefined) return;
    const user = foldUsername(username);
    const { count } = await this.#store.hit(userKey(user), this.#windowMs);
    const excess = count - this.#threshold;
    if (excess <= 0) return;
    const delayMs = Math.min(this.#baseDelayMs * 2 ** Math.min(excess, 40), this.#maxDelayMs);
    // Keep the count for a whole window past the lock, so the delay stays at its peak while guessing
    // goes on and resets only after a quiet window, instead of granting a fresh threshold every 15 min.
    await this.#store.set(userKey(user), count, delayMs + this.#windowMs);
    await this.#store.set(lockKey(user), excess, delayMs);
  }

  /**
   * Counts an attempt in `key`'s window; past the limit, refuses until the window ends. The attempt
   * that first goes past it rewrites the count with `set`, as a lock: a bounded store evicts cheap
   * windows before locks, so flooding it cannot hand the guesser a fresh budget.
   */
  async #count(key: string, max: number): Promise<LimitDecision> {
    const { count, resetAt } = await this.#store.hit(key, this.#windowMs);
    if (count <= max) return ALLOWED;
    const now = this.#now();
    if (count === max + 1 && resetAt > now) await this.#store.set(key, count, resetAt - now);
    return refuseUntil(resetAt, now);
  }

  /** After a correct password: clears the pair's (or the known device's) count; the username-wide count stays. */
  async recordSuccess(username: string, address: string, device?: KnownDevice): Promise<void> {
    await this.#store.delete(device !== undefined ? deviceKey(device) : pairKey(foldUsername(username), address));
  }
}

/** Usernames are unique ignoring case; so are their throttles. */
function foldUsername(username: string): string {
  return username.toLowerCase();
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

function pairKey(user: string, address: string): string {
  return `login:pair:${digest(['pair', user, addressKey(address)])}`;
}

function userKey(user: string): string {
  return `login:user:${digest(['user', user])}`;
}

function deviceKey(device: KnownDevice): string {
  return `login:device:${digest(['device', device.id, device.userId])}`;
}

function lockKey(user: string): string {
  return `login:lock:${digest(['lock', user])}`;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
