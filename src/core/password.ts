/**
 * Password hashing with argon2id, off the event loop and behind a bounded queue.
 *
 * `@node-rs/argon2`'s async functions run on libuv's thread pool, so the event loop stays free; a
 * semaphore caps how many run at once (so hashing cannot take every pool thread or every core) and a
 * bounded wait queue turns overload into an immediate {@link HashingQueueFullError} (503) instead of
 * an ever-growing backlog of requests that time out anyway.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { hash as argon2Hash, parseOptions, verify as argon2Verify } from '@node-rs/argon2';

/** argon2id cost parameters. */
export interface PasswordParams {
  /** Memory in KiB (`m=`). */
  memoryCost: number;
  /** Passes over memory (`t=`). */
  timeCost: number;
  /** Lanes (`p=`). */
  parallelism: number;
}

/** OWASP's argon2id recommendation: m=19 MiB, t=2, p=1 (about 20 ms on a current core). */
export const DEFAULT_PASSWORD_PARAMS: Readonly<PasswordParams> = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

/**
 * How many hash jobs may wait for a free slot. 64 jobs at ~20 ms on one thread is ~1.3 s of backlog:
 * long enough to absorb a burst of logins, short enough that a queued request still answers well
 * before a client gives up.
 */
export const DEFAULT_QUEUE_SIZE = 64;

/** Options of {@link PasswordHasher}. */
export interface PasswordHasherOptions {
  /** Cost of new hashes; stored hashes with other parameters report `needsRehash`. */
  params?: PasswordParams;
  /** Hash jobs run at once. Default: {@link defaultHashConcurrency}. */
  concurrency?: number;
  /** Jobs allowed to wait for a slot; beyond that, {@link HashingQueueFullError}. Default 64. */
  queueSize?: number;
}

/** Thrown (as a rejection, at once) when the wait queue is full; the HTTP layer answers 503 `unavailable`. */
export class HashingQueueFullError extends Error {
  readonly code = 'unavailable';
  /** Suggested `Retry-After`, in whole seconds, at least 1. */
  readonly retryAfter: number;

  constructor(retryAfter: number) {
    super('password hashing queue is full');
    this.name = 'HashingQueueFullError';
    this.retryAfter = retryAfter;
  }
}

/**
 * The default number of concurrent hash jobs: cores − 1 (at least 1), so one core stays with the
 * event loop, and also at most libuv pool size − 1, so file-system and DNS work (which share the same
 * pool) always find a free thread. Raise `UV_THREADPOOL_SIZE` before start-up to use more cores.
 */
export function defaultHashConcurrency(): number {
  const poolSize = Number(process.env['UV_THREADPOOL_SIZE']) || 4;
  return Math.max(1, Math.min(availableParallelism() - 1, poolSize - 1));
}

/** Unicode NFKC normalisation, applied to every password before hashing or verifying. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** The length of a password in Unicode code points after NFKC (the contract's 8–1024 bound). */
export function passwordLength(password: string): number {
  let count = 0;
  for (const _ of normalizePassword(password)) count++;
  return count;
}

/**
 * A counting semaphore with a bounded wait queue. `run` starts a job when fewer than `concurrency`
 * are running, queues it when at most `queueSize` are waiting, and otherwise returns `undefined`
 * so the caller can refuse at once.
 */
export class BoundedSemaphore {
  readonly concurrency: number;
  readonly queueSize: number;
  #active = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(concurrency: number, queueSize: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be an integer >= 1');
    if (!Number.isInteger(queueSize) || queueSize < 0) throw new RangeError('queueSize must be an integer >= 0');
    this.concurrency = concurrency;
    this.queueSize = queueSize;
  }

  /** Jobs running now. */
  get active(): number {
    return this.#active;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Runs `job` under the semaphore, or returns `undefined` without running it when the queue is full. */
  run<T>(job: () => Promise<T>): Promise<T> | undefined {
    if (this.#active < this.concurrency) {
      this.#active++;
      return this.#execute(job);
    }
    if (this.#waiters.length >= this.queueSize) return undefined;
    return new Promise<void>((resolve) => this.#waiters.push(resolve)).then(() => this.#execute(job));
  }

  async #execute<T>(job: () => Promise<T>): Promise<T> {
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next waiter so `active` never dips and overshoots.
      const next = this.#waiters.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

/** Result of {@link PasswordHasher.verify}. */
export interface VerifyResult {
  ok: boolean;
  /** The password matched but the stored hash uses other parameters: store `hash(password)` anew. */
  needsRehash: boolean;
}

/** Start-up guess of one hash's duration, until real jobs have been timed. */
const INITIAL_JOB_MS = 50;
const ARGON2ID = 2;
const VERSION_0X13 = 1;
const OUTPUT_LEN = 32;

/**
 * argon2id hashing and verification that never blocks the event loop, with bounded concurrency and
 * queue. Passwords are NFKC-normalised here, so callers cannot forget.
 */
export class PasswordHasher {
  readonly concurrency: number;
  readonly queueSize: number;
  readonly params: Readonly<PasswordParams>;
  readonly #semaphore: BoundedSemaphore;
  readonly #dummyHash: string;
  #jobMs = INITIAL_JOB_MS;

  constructor(options: PasswordHasherOptions = {}) {
    const params = options.params ?? DEFAULT_PASSWORD_PARAMS;
    for (const [name, value] of Object.entries(params)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`params.${name} must be a positive integer`);
    }
    this.params = Object.freeze({ ...params });
    this.#semaphore = new BoundedSemaphore(
      options.concurrency ?? defaultHashConcurrency(),
      options.queueSize ?? DEFAULT_QUEUE_SIZE,
    );
    this.concurrency = this.#semaphore.concurrency;
    this.queueSize = this.#semaphore.queueSize;
    this.#dummyHash = dummyHash(this.params);
  }

  /** Hash jobs running now. */
  get active(): number {
    return this.#semaphore.active;
  }

  /** Hash jobs waiting for a slot. */
  get waiting(): number {
    return this.#semaphore.waiting;
  }

  /**
   * Hashes a password (after NFKC) into a PHC string with a fresh random salt.
   * @throws HashingQueueFullError when the wait queue is full.
   */
  hash(password: string): Promise<string> {
    const normalized = normalizePassword(password);
    return this.#run(() =>
      argon2Hash(normalized, {
        algorithm: ARGON2ID,
        version: VERSION_0X13,
        outputLen: OUTPUT_LEN,
        memoryCost: this.params.memoryCost,
        timeCost: this.params.timeCost,
        parallelism: this.params.parallelism,
      }),
    );
  }

  /**
   * Checks a password (after NFKC) against a stored PHC hash. A malformed hash, or a password that is
   * not well-formed Unicode, is a mismatch, costs as much as a real check (so it reveals nothing
   * through timing) and never throws.
   * @throws HashingQueueFullError when the wait queue is full.
   */
  async verify(passwordHash: string, password: string): Promise<VerifyResult> {
    // Hashing turns each lone surrogate into U+FFFD, so a malformed password would match a
    // well-formed one it is not; it never matches (new ones are refused with a 400 before this).
    if (!password.isWellFormed()) {
      await this.verifyDummy(password);
      return { ok: false, needsRehash: false };
    }
    let stored: ReturnType<typeof parseOptions>;
    try {
      stored = parseOptions(passwordHash);
    } catch {
      await this.verifyDummy(password);
      return { ok: false, needsRehash: false };
    }
    const normalized = normalizePassword(password);
    const ok = await this.#run(() => argon2Verify(passwordHash, normalized).catch(() => false));
    if (!ok) return { ok: false, needsRehash: false };
    const needsRehash =
      stored.algorithm !== ARGON2ID ||
      stored.version !== VERSION_0X13 ||
      stored.outputLen !== OUTPUT_LEN ||
      stored.memoryCost !== this.params.memoryCost ||
      stored.timeCost !== this.params.timeCost ||
      stored.parallelism !== this.params.parallelism;
    return { ok: true, needsRehash };
  }

  /**
   * Spends the cost of one real verification and answers `false`: for a login to an unknown user, so
   * its timing matches a wrong password. The reference hash has the current parameters and random
   * salt and output bytes, so no password can match it and building it costs nothing.
   * @throws HashingQueueFullError when the wait queue is full.
   */
  async verifyDummy(password: string): Promise<false> {
    const normalized = normalizePassword(password);
    await this.#run(() => argon2Verify(this.#dummyHash, normalized).catch(() => false));
    return false;
  }

  async #run<T>(job: () => Promise<T>): Promise<T> {
    const timed = async (): Promise<T> => {
      const started = performance.now();
      try {
        return await job();
      } finally {
        // An exponential moving average is enough to size Retry-After; it follows load changes.
        this.#jobMs = this.#jobMs * 0.8 + (performance.now() - started) * 0.2;
      }
    };
    const running = this.#semaphore.run(timed);
    if (running === undefined) throw new HashingQueueFullError(this.#retryAfter());
    return running;
  }

  #retryAfter(): number {
    const backlog = this.#semaphore.active + this.#semaphore.waiting;
    return Math.max(1, Math.ceil((backlog * this.#jobMs) / this.concurrency / 1000));
  }
}

function dummyHash(params: Readonly<PasswordParams>): string {
  const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
  const { memoryCost: m, timeCost: t, parallelism: p } = params;
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64(randomBytes(16))}$${b64(randomBytes(OUTPUT_LEN))}`;
}
