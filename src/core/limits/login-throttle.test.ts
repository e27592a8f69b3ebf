import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CounterStore } from './counter-store.js';
import { LoginThrottle } from './login-throttle.js';
import { createMemoryCounterStore } from './memory-store.js';

const MINUTE = 60_000;

function setup(options: ConstructorParameters<typeof LoginThrottle>[1] = {}, maxKeys?: number) {
  let t = 1_700_000_000_000;
  const now = (): number => t;
  const store = createMemoryCounterStore({ now, maxKeys });
  const throttle = new LoginThrottle(store, { now, ...options });
  /** One failed login attempt as the server makes it: check, then (if allowed) record the failure. */
  const fail = async (username: string, address: string) => {
    const decision = await throttle.check(username, address);
    if (decision.allowed) await throttle.recordFailure(username, address);
    return decision;
  };
  return { store, throttle, fail, advance: (ms: number) => (t += ms) };
}

describe('LoginThrottle, per username and address', () => {
  it('refuses the 11th attempt in 15 minutes, with Retry-After until the window ends', async () => {
    const { throttle, fail, advance } = setup();
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(await fail('alice', '203.0.113.7'), { allowed: true }, `attempt ${i + 1}`);
      advance(30_000); // the 10th lands at 4.5 min
    }
    assert.deepEqual(await throttle.check('alice', '203.0.113.7'), { allowed: false, retryAfter: 10 * 60 });
  });

  it('keeps refusing that pair, a correct password included, until the window has passed', async () => {
    const { throttle, fail, advance } = setup();
    for (let i = 0; i < 10; i++) await fail('alice', '203.0.113.7');
    advance(15 * MINUTE - 1);
    // The server checks before verifying, so a correct password never gets as far as the hash.
    assert.deepEqual(await throttle.check('alice', '203.0.113.7'), { allowed: false, retryAfter: 1 });
    advance(1);
    assert.deepEqual(await throttle.check('alice', '203.0.113.7'), { allowed: true });
  });

  it('leaves other usernames and other addresses alone', async () => {
    const { throttle, fail } = setup();
    for (let i = 0; i < 11; i++) await fail('alice', '203.0.113.7');
    assert.equal((await throttle.check('alice', '203.0.113.7')).allowed, false);
    assert.equal((await throttle.check('bob', '203.0.113.7')).allowed, true);
    assert.equal((await throttle.check('alice', '198.51.100.1')).allowed, true);
  });

  it('compares usernames ignoring case', async () => {
    const { throttle, fail } = setup();
    for (const name of ['alice', 'Alice', 'ALICE', 'aLiCe', 'alicE', 'ALice', 'aliCE', 'AlIcE', 'alICE', 'ALICe']) {
      await fail(name, '203.0.113.7');
    }
    assert.equal((await throttle.check('alice', '203.0.113.7')).allowed, false);
  });

  it('counts addresses of one IPv6 /64 together, and IPv4-mapped addresses as IPv4', async () => {
    const { throttle, fail } = setup();
    for (let i = 0; i < 10; i++) await fail('alice', `2001:db8:1:2::${(i + 1).toString(16)}`);
    assert.equal((await throttle.check('alice', '2001:db8:1:2:ffff::1')).allowed, false);
    assert.equal((await throttle.check('alice', '2001:db8:1:3::1')).allowed, true);

    for (let i = 0; i < 5; i++) await fail('bob', '203.0.113.7');
    for (let i = 0; i < 5; i++) await fail('bob', '::ffff:203.0.113.7');
    assert.equal((await throttle.check('bob', '203.0.113.7')).allowed, false);
  });

  it('lets no more than 10 of a burst of parallel attempts through', async () => {
    const { throttle } = setup();
    const decisions = await Promise.all(Array.from({ length: 30 }, () => throttle.check('alice', '203.0.113.7')));
    assert.equal(decisions.filter((d) => d.allowed).length, 10);
  });

  it('clears the pair on success, so a user who finally remembers is not locked out', async () => {
    const { throttle, fail } = setup();
    for (let i = 0; i < 9; i++) await fail('alice', '203.0.113.7');
    assert.equal((await throttle.check('alice', '203.0.113.7')).allowed, true);
    await throttle.recordSuccess('alice', '203.0.113.7');
    for (let i = 0; i < 10; i++) assert.equal((await fail('alice', '203.0.113.7')).allowed, true);
    assert.equal((await throttle.check('alice', '203.0.113.7')).allowed, false);
  });

  it('keeps usernames apart even when they contain separators or quotes', async () => {
    const keys = new Set<string>();
    const inner = createMemoryCounterStore();
    const recording: CounterStore = {
      hit: (key, windowMs) => (keys.add(key), inner.hit(key, windowMs)),
      peek: (key) => inner.peek(key),
      set: (key, value, ttl) => (keys.add(key), inner.set(key, value, ttl)),
      delete: (key) => inner.delete(key),
      close: () => inner.close(),
    };
    const throttle = new LoginThrottle(recording, { maxFailuresPerPair: 1 });
    await throttle.check('a:b', '203.0.113.7');
    await throttle.check('a', 'b:203.0.113.7');
    await throttle.check('a","b', '203.0.113.7');
    await throttle.check('a', 'b","203.0.113.7');
    assert.equal(keys.size, 4);
    for (const key of keys) assert.doesNotMatch(key, /203\.0|"/, 'no raw address or username in a key');
    assert.equal((await throttle.check('a:b', '203.0.113.7')).allowed, false);
    assert.equal((await throttle.check('a:b2', '203.0.113.7')).allowed, true);
  });
});

describe('LoginThrottle, per username across addresses', () => {
  it('lets 20 failures from different addresses pass, then locks the username with a doubling delay', async () => {
    const { throttle, fail, advance } = setup();
    for (let i = 1; i <= 20; i++) assert.equal((await fail('alice', `198.51.100.${i}`)).allowed, true);
    assert.equal((await throttle.check('alice', '198.51.100.200')).allowed, true);
    await throttle.recordFailure('alice', '198.51.100.200'); // the 21st failure

    const expected = [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900];
    for (const [k, seconds] of expected.entries()) {
      const fresh = `192.0.2.${k + 1}`;
      assert.deepEqual(await throttle.check('alice', fresh), { allowed: false, retryAfter: seconds }, `lock ${k + 1}`);
      assert.deepEqual(await throttle.check('ALICE', '203.0.113.99'), { allowed: false, retryAfter: seconds });
      advance(seconds * 1000);
      assert.deepEqual(await fail('alice', fresh), { allowed: true });
    }
  });

  it('does not slow down other usernames', async () => {
    const { throttle, fail } = setup();
    for (let i = 1; i <= 25; i++) await fail('alice', `198.51.100.${i}`);
    assert.equal((await throttle.check('alice', '192.0.2.1')).allowed, false);
    assert.equal((await throttle.check('bob', '192.0.2.1')).allowed, true);
  });

  it('forgets the username count only after a whole quiet window following the last lock', async () => {
    const { throttle, fail, advance } = setup();
    for (let i = 1; i <= 21; i++) await fail('alice', `198.51.100.${i}`); // locked for 2 s
    advance(2000 + 15 * MINUTE - 1);
    await fail('alice', '192.0.2.1'); // still counted: the 22nd failure, 4 s
    assert.deepEqual(await throttle.check('alice', '192.0.2.2'), { allowed: false, retryAfter: 4 });
    advance(4000 + 15 * MINUTE);
    for (let i = 1; i <= 20; i++) assert.equal((await fail('alice', `192.0.2.${i}`)).allowed, true);
    assert.equal((await throttle.check('alice', '192.0.2.99')).allowed, true);
  });

  it('keeps the username-wide count when one address succeeds', async () => {
    const { throttle, fail } = setup({ usernameThreshold: 3 });
    for (let i = 1; i <= 3; i++) await fail('alice', `198.51.100.${i}`);
    await throttle.recordSuccess('alice', '198.51.100.3');
    await fail('alice', '198.51.100.4');
    assert.deepEqual(await throttle.check('alice', '192.0.2.1'), { allowed: false, retryAfter: 2 });
  });

  it('refuses nonsensical options', () => {
    const store = createMemoryCounterStore();
    assert.throws(() => new LoginThrottle(store, { maxFailuresPerPair: 0 }), RangeError);
    assert.throws(() => new LoginThrottle(store, { windowMs: 1.5 }), RangeError);
  });
});

describe('LoginThrottle over a full memory store', () => {
  /** Fills a store of 40 keys many times over with cheap windows: failures at other usernames. */
  const flood = async (fail: (username: string, address: string) => Promise<unknown>): Promise<void> => {
    for (let i = 0; i < 300; i++) await fail(`stranger${i}`, `203.0.113.${i % 250}`);
  };

  it('keeps an active username lock, and its count, while floods of other windows are evicted', async () => {
    const { throttle, fail, advance } = setup({}, 40);
    for (let i = 1; i <= 21; i++) await fail('alice', `198.51.100.${i}`); // locked for 2 s
    await flood(fail);
    assert.deepEqual(await throttle.check('alice', '192.0.2.1'), { allowed: false, retryAfter: 2 });
    advance(2000);
    await fail('alice', '192.0.2.2'); // the 22nd failure: the delay goes on doubling
    await flood(fail);
    assert.deepEqual(await throttle.check('alice', '192.0.2.3'), { allowed: false, retryAfter: 4 });
  });

  it('keeps refusing an address that used up its attempts for a username, through a flood', async () => {
    const { throttle, fail } = setup({}, 40);
    for (let i = 0; i < 11; i++) await fail('bob', '198.51.100.7');
    await flood(fail);
    assert.equal((await throttle.check('bob', '198.51.100.7')).allowed, false);
    assert.equal((await throttle.check('bob', '198.51.100.8')).allowed, true);
  });
});

describe('LoginThrottle, known devices', () => {
  const phone = { id: 'phone-device-id-000000', userId: '6f1d1c7e-2b1e-4f57-9f0e-1f1a3c1d2e4f' };
  const laptop = { id: 'laptop-device-id-00000', userId: phone.userId };

  it('lets a known device through while the username is locked for every address, whatever strangers do', async () => {
    const { throttle, fail } = setup();
    for (let i = 1; i <= 40; i++) await fail('alice', `198.51.100.${i}`);
    assert.equal((await throttle.check('alice', '192.0.2.1')).allowed, false, 'locked for strangers');
    assert.equal((await throttle.check('alice', '198.51.100.1')).allowed, false);
    assert.deepEqual(await throttle.check('alice', '198.51.100.1', phone), { allowed: true });
    await throttle.recordSuccess('alice', '198.51.100.1', phone);
    for (let i = 41; i <= 60; i++) await fail('alice', `198.51.100.${i}`);
    assert.deepEqual(await throttle.check('alice', '203.0.113.9', phone), { allowed: true });
  });

  it('lets a known device through an address that used up its attempts for the username', async () => {
    const { throttle, fail } = setup();
    for (let i = 0; i < 11; i++) await fail('alice', '198.51.100.7');
    assert.equal((await throttle.check('alice', '198.51.100.7')).allowed, false);
    assert.deepEqual(await throttle.check('alice', '198.51.100.7', phone), { allowed: true });
  });

  it('limits a known device to 10 attempts in 15 minutes, on its own count', async () => {
    const { throttle, advance } = setup();
    const failOn = async (device: typeof phone) => {
      const decision = await throttle.check('alice', '198.51.100.7', device);
      if (decision.allowed) await throttle.recordFailure('alice', '198.51.100.7', device);
      return decision;
    };
    for (let i = 0; i < 10; i++) assert.deepEqual(await failOn(phone), { allowed: true }, `attempt ${i + 1}`);
    assert.deepEqual(await throttle.check('alice', '198.51.100.7', phone), { allowed: false, retryAfter: 15 * 60 });
    assert.deepEqual(await throttle.check('alice', '198.51.100.7', laptop), { allowed: true }, 'another device of the user');
    assert.deepEqual(await throttle.check('alice', '198.51.100.7'), { allowed: true }, 'the address without the device');
    advance(15 * MINUTE);
    assert.deepEqual(await throttle.check('alice', '198.51.100.7', phone), { allowed: true });
  });

  it("never counts a known device's failures towards the username-wide lock", async () => {
    const { throttle, advance } = setup({ usernameThreshold: 1 });
    for (let i = 0; i < 5; i++) {
      const device = { id: `device-${i}`, userId: phone.userId };
      for (let j = 0; j < 10; j++) {
        assert.equal((await throttle.check('alice', '198.51.100.7', device)).allowed, true);
        await throttle.recordFailure('alice', '198.51.100.7', device);
      }
      advance(MINUTE);
    }
    assert.deepEqual(await throttle.check('alice', '192.0.2.1'), { allowed: true });
  });

  it("clears a known device's count on success, leaving the address's count alone", async () => {
    const { throttle, fail } = setup();
    for (let i = 0; i < 9; i++) {
      await throttle.check('alice', '198.51.100.7', phone);
      await throttle.recordFailure('alice', '198.51.100.7', phone);
    }
    for (let i = 0; i < 10; i++) await fail('alice', '198.51.100.7');
    await throttle.recordSuccess('alice', '198.51.100.7', phone);
    for (let i = 0; i < 10; i++) assert.equal((await throttle.check('alice', '198.51.100.7', phone)).allowed, true);
    assert.equal((await throttle.check('alice', '198.51.100.7')).allowed, false, 'the pair stays refused');
  });
});
