import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import {
  BoundedSemaphore,
  DEFAULT_PASSWORD_PARAMS,
  DEFAULT_QUEUE_SIZE,
  defaultHashConcurrency,
  HashingQueueFullError,
  normalizePassword,
  passwordLength,
  PasswordHasher,
} from './password.js';

// Cheap parameters keep functional tests fast; timing tests use the real defaults.
const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The longest the event loop was late for a 2 ms timer while `work` ran. */
async function maxLagDuring(work: () => Promise<unknown>): Promise<number> {
  const intervalMs = 2;
  let last = performance.now();
  let maxLag = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - intervalMs);
    last = now;
  }, intervalMs);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  // the last stretch, from the final tick to the end of the work
  return Math.max(maxLag, performance.now() - last - intervalMs);
}

describe('normalizePassword and passwordLength', () => {
  it('maps compatibility characters to their NFKC form', () => {
    assert.equal(normalizePassword('\uFB01'), 'fi');
    assert.equal(normalizePassword('ＰＡＳＳ１２３'), 'PASS123');
  });

  it('counts code points after NFKC, not UTF-16 units', () => {
    assert.equal(passwordLength('😀😀'), 2);
    assert.equal(passwordLength('\uFB01'), 2);
    assert.equal(passwordLength('e\u0301'), 1); // composes to é
  });
});

describe('PasswordHasher', () => {
  it('defaults to OWASP argon2id parameters, cores − 1 threads and a 64-job queue', () => {
    const hasher = new PasswordHasher();
    assert.deepEqual({ ...hasher.params }, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.deepEqual({ ...DEFAULT_PASSWORD_PARAMS }, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.equal(hasher.concurrency, defaultHashConcurrency());
    assert.ok(hasher.concurrency >= 1);
    assert.equal(hasher.queueSize, DEFAULT_QUEUE_SIZE);
    assert.equal(DEFAULT_QUEUE_SIZE, 64);
  });

  it('produces an argon2id PHC string with the configured parameters that verifies', async () => {
    const hasher = new PasswordHasher({ params: FAST });
    const stored = await hasher.hash('correct horse battery staple');
    assert.match(stored, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    assert.deepEqual(await hasher.verify(stored, 'correct horse battery staple'), { ok: true, needsRehash: false });
    assert.deepEqual(await hasher.verify(stored, 'correct horse battery stapler'), { ok: false, needsRehash: false });
  });

  it('salts every hash differently', async () => {
    const hasher = new PasswordHasher({ params: FAST });
    assert.notEqual(await hasher.hash('same password'), await hasher.hash('same password'));
  });

  it('treats NFKC-equivalent passwords as the same password', async () => {
    const hasher = new PasswordHasher({ params: FAST });
    const ligature = await hasher.hash('\uFB01nally-secret');
    assert.equal((await hasher.verify(ligature, 'finally-secret')).ok, true);
    const fullWidth = await hasher.hash('ＳｅｃｒｅｔＰａｓｓ');
    assert.equal((await hasher.verify(fullWidth, 'SecretPass')).ok, true);
  });

  it('reports needsRehash when the stored parameters differ from the current ones', async () => {
    const old = new PasswordHasher({ params: FAST });
    const current = new PasswordHasher({ params: { ...FAST, timeCost: 2 } });
    const stored = await old.hash('password-1');
    assert.deepEqual(await current.verify(stored, 'password-1'), { ok: true, needsRehash: true });
    assert.deepEqual(await current.verify(stored, 'wrong'), { ok: false, needsRehash: false });
    const fresh = await current.hash('password-1');
    assert.deepEqual(await current.verify(fresh, 'password-1'), { ok: true, needsRehash: false });
  });

  it('answers ok:false, without throwing or echoing anything, for malformed stored hashes', async () => {
    const hasher = new PasswordHasher({ params: FAST });
    for (const bad of ['', 'not a hash', '$argon2id$v=19$m=1024,t=1,p=1$@@@$@@@', '$2b$10$abcdefghijklmnopqrstuv']) {
      assert.deepEqual(await hasher.verify(bad, 'whatever'), { ok: false, needsRehash: false });
    }
  });

  it('verifyDummy does a real verification, through the queue like any other, and answers false', async () => {
    // Its answer is the literal false whatever happens; what matters is the work it spends (so an unknown
    // user costs what a wrong password does): it takes a hashing slot, and a job behind it waits for it.
    const hasher = new PasswordHasher({ params: DEFAULT_PASSWORD_PARAMS, concurrency: 1, queueSize: 4 });
    const order: string[] = [];
    const dummy = hasher.verifyDummy('anything at all').then((result) => (order.push('dummy'), result));
    assert.equal(hasher.active, 1, 'the dummy verification holds a slot');
    const next = hasher.hash('queued-behind').then(() => order.push('hash'));
    assert.equal(hasher.waiting, 1, 'a job behind it waits');
    assert.equal(await dummy, false);
    await next;
    assert.deepEqual(order, ['dummy', 'hash']);
    // The same holds for a malformed stored hash, which must not answer faster than a real one.
    const stored = hasher.verify('not a hash', 'whatever');
    assert.equal(hasher.active, 1);
    assert.deepEqual(await stored, { ok: false, needsRehash: false });
  });

  it('rejects at once with HashingQueueFullError (code unavailable, retryAfter >= 1) beyond the queue', async () => {
    const hasher = new PasswordHasher({ params: DEFAULT_PASSWORD_PARAMS, concurrency: 1, queueSize: 2 });
    const admitted = [hasher.hash('one-password'), hasher.hash('two-password'), hasher.hash('three-password')];
    let finished = 0;
    for (const job of admitted) void job.then(() => finished++);
    await assert.rejects(hasher.hash('four-password'), (error: unknown) => {
      assert.ok(error instanceof HashingQueueFullError);
      assert.equal(error.code, 'unavailable');
      assert.ok(Number.isInteger(error.retryAfter) && error.retryAfter >= 1);
      assert.doesNotMatch(error.message, /four-password/);
      return true;
    });
    await assert.rejects(hasher.verifyDummy('x'), HashingQueueFullError);
    // The refusal did not wait for a slot: the first hash (tens of ms) is still running, nobody moved up.
    assert.deepEqual({ finished, active: hasher.active, waiting: hasher.waiting }, { finished: 0, active: 1, waiting: 2 });
    await Promise.all(admitted);
    await hasher.hash('after the burst'); // the queue drains and admits again
  });

  it('never runs more than `concurrency` hashes at once', async () => {
    const hasher = new PasswordHasher({ params: FAST, concurrency: 2 });
    let maxActive = 0;
    let sampling = true;
    const sample = (): void => {
      maxActive = Math.max(maxActive, hasher.active);
      if (sampling) setImmediate(sample);
    };
    sample();
    const jobs = Array.from({ length: 8 }, (_, i) => hasher.hash(`password-${i}`));
    assert.equal(hasher.active, 2);
    assert.equal(hasher.waiting, 6);
    await Promise.all(jobs);
    sampling = false;
    assert.equal(maxActive, 2);
    assert.equal(hasher.active, 0);
  });

  it('keeps the event loop responsive during 8 parallel hashes', async (t) => {
    const hasher = new PasswordHasher();
    await hasher.hash('warm-up'); // first call loads and initialises the native module
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    // On the loop, 8 hashes would block it for several hashes at once; a lag of at most two hashes (or
    // 20 ms) shows they ran elsewhere. A busy machine also delays the loop when nothing runs on it, so each
    // measurement is bracketed by quiet windows of the same length under the same load: a lag that the quiet
    // windows show too is the machine's, and that measurement is taken again.
    for (let attempt = 1; ; attempt++) {
      const single: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await hasher.hash(`timing-${i}`);
        single.push(performance.now() - t0);
      }
      const hashMs = median(single);
      const limit = Math.max(20, hashMs * 2);
      const window = Math.ceil((hashMs * 8) / hasher.concurrency);
      const before = await maxLagDuring(() => sleep(window));
      const during = await maxLagDuring(() => Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`parallel-password-${i}`))));
      const after = await maxLagDuring(() => sleep(window));
      const noise = Math.max(before, after);
      t.diagnostic(`attempt ${attempt}: hash ≈ ${hashMs.toFixed(1)} ms; max event-loop lag ${during.toFixed(1)} ms while hashing, ${noise.toFixed(1)} ms idle (limit ${limit.toFixed(1)} ms)`);
      if (during < limit) return;
      // a quiet machine and still a lag: the hashes blocked the loop
      assert.ok(noise >= limit / 2, `max lag ${during.toFixed(1)} ms vs one hash ${hashMs.toFixed(1)} ms, with the loop idle at ${noise.toFixed(1)} ms`);
      assert.ok(attempt < 5, `the machine was too busy to measure: idle lag ${noise.toFixed(1)} ms in 5 attempts`);
    }
  });

  it('spends about as long on a dummy verify as on a failing real verify', async () => {
    const hasher = new PasswordHasher({ concurrency: 1 });
    const stored = await hasher.hash('the real password');
    await hasher.verifyDummy('warm-up');
    const time = async (run: () => Promise<unknown>): Promise<number> => {
      const t = performance.now();
      await run();
      return performance.now() - t;
    };
    // Back-to-back pairs in alternating order see the same machine load; the median of their ratios
    // ignores the pairs that a burst of load from elsewhere happened to split. Load from parallel test
    // files can still skew a whole series, so a series out of bounds is measured again (up to three
    // times): a real difference between the two paths puts every series out of bounds.
    const measure = async (): Promise<{ ratio: number; real: number; dummy: number }> => {
      const real: number[] = [];
      const dummy: number[] = [];
      const ratios: number[] = [];
      for (let i = 0; i < 21; i++) {
        const guess = `wrong guess ${i}`;
        const runReal = () => time(() => hasher.verify(stored, guess));
        const runDummy = () => time(() => hasher.verifyDummy(guess));
        let r: number;
        let d: number;
        if (i % 2 === 0) {
          r = await runReal();
          d = await runDummy();
        } else {
          d = await runDummy();
          r = await runReal();
        }
        real.push(r);
        dummy.push(d);
        ratios.push(d / r);
      }
      return { ratio: median(ratios), real: median(real), dummy: median(dummy) };
    };
    const series: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { ratio, real, dummy } = await measure();
      series.push(ratio);
      console.log(`failing verify median ${real.toFixed(1)} ms, dummy ${dummy.toFixed(1)} ms, median ratio ${ratio.toFixed(3)}`);
      if (Math.abs(ratio - 1) <= 0.15) return;
    }
    assert.fail(`dummy/real median ratios ${series.map((r) => r.toFixed(3)).join(', ')}: all beyond 15%`);
  });

  it('refuses nonsensical options', () => {
    assert.throws(() => new PasswordHasher({ concurrency: 0 }), RangeError);
    assert.throws(() => new PasswordHasher({ queueSize: -1 }), RangeError);
    assert.throws(() => new PasswordHasher({ params: { memoryCost: 0, timeCost: 1, parallelism: 1 } }), RangeError);
  });
});

describe('BoundedSemaphore', () => {
  it('admits `concurrency` jobs, queues up to `queueSize`, refuses beyond, in FIFO order', async () => {
    const semaphore = new BoundedSemaphore(2, 3);
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, () => deferred());
    const runs = gates.map((gate, i) =>
      semaphore.run(async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        order.push(i);
        await gate.promise;
        running--;
      }),
    );
    assert.equal(semaphore.run(async () => undefined), undefined, 'the 6th job is refused');
    assert.equal(semaphore.active, 2);
    assert.equal(semaphore.waiting, 3);
    for (const gate of gates) {
      gate.resolve();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(runs);
    assert.equal(maxRunning, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(semaphore.active, 0);
  });

  it('releases the slot when a job fails', async () => {
    const semaphore = new BoundedSemaphore(1, 0);
    await assert.rejects(semaphore.run(async () => Promise.reject(new Error('boom'))) ?? Promise.resolve(), /boom/);
    assert.equal(semaphore.active, 0);
    assert.equal(await semaphore.run(async () => 'ok'), 'ok');
  });
});
