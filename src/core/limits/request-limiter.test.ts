import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryCounterStore } from './memory-store.js';
import { RequestLimiter } from './request-limiter.js';

function setup(options: ConstructorParameters<typeof RequestLimiter>[1] = {}) {
  let t = 1_700_000_000_000;
  const now = (): number => t;
  const limiter = new RequestLimiter(createMemoryCounterStore({ now }), { now, ...options });
  return { limiter, advance: (ms: number) => (t += ms) };
}

async function hits(limiter: RequestLimiter, bucket: 'auth' | 'refresh', address: string, n: number) {
  const decisions = [];
  for (let i = 0; i < n; i++) decisions.push(await limiter.hit(bucket, address));
  return decisions;
}

describe('RequestLimiter', () => {
  it('serves 100 login/signup requests a minute per address, then refuses until the minute is over', async () => {
    const { limiter, advance } = setup();
    assert.ok((await hits(limiter, 'auth', '203.0.113.7', 60)).every((d) => d.allowed));
    advance(20_000);
    assert.ok((await hits(limiter, 'auth', '203.0.113.7', 40)).every((d) => d.allowed));
    assert.deepEqual(await limiter.hit('auth', '203.0.113.7'), { allowed: false, retryAfter: 40 });
    advance(39_500);
    assert.deepEqual(await limiter.hit('auth', '203.0.113.7'), { allowed: false, retryAfter: 1 });
    advance(500);
    assert.deepEqual(await limiter.hit('auth', '203.0.113.7'), { allowed: true });
  });

  it('serves 300 refresh requests a minute per address, counted apart from auth', async () => {
    const { limiter } = setup();
    await hits(limiter, 'auth', '203.0.113.7', 100);
    assert.equal((await limiter.hit('auth', '203.0.113.7')).allowed, false);
    assert.ok((await hits(limiter, 'refresh', '203.0.113.7', 300)).every((d) => d.allowed));
    assert.equal((await limiter.hit('refresh', '203.0.113.7')).allowed, false);
  });

  it('leaves other addresses alone', async () => {
    const { limiter } = setup();
    await hits(limiter, 'auth', '203.0.113.7', 101);
    assert.equal((await limiter.hit('auth', '198.51.100.1')).allowed, true);
  });

  it('counts an IPv6 /64 as one address and IPv4-mapped addresses as IPv4', async () => {
    const { limiter } = setup({ auth: 3 });
    await limiter.hit('auth', '2001:db8:1:2::1');
    await limiter.hit('auth', '2001:db8:1:2::2');
    await limiter.hit('auth', '2001:db8:1:2:abcd::9');
    assert.equal((await limiter.hit('auth', '2001:db8:1:2::ffff')).allowed, false);
    assert.equal((await limiter.hit('auth', '2001:db8:1:3::1')).allowed, true);

    await hits(limiter, 'auth', '::ffff:198.51.100.9', 3);
    assert.equal((await limiter.hit('auth', '198.51.100.9')).allowed, false);
  });

  it('takes its caps and window from options, and refuses nonsensical ones', async () => {
    const { limiter } = setup({ auth: 2, refresh: 1, windowMs: 10_000 });
    await hits(limiter, 'auth', '203.0.113.7', 2);
    assert.deepEqual(await limiter.hit('auth', '203.0.113.7'), { allowed: false, retryAfter: 10 });
    await limiter.hit('refresh', '203.0.113.7');
    assert.equal((await limiter.hit('refresh', '203.0.113.7')).allowed, false);
    assert.throws(() => new RequestLimiter(createMemoryCounterStore(), { auth: 0 }), RangeError);
    await assert.rejects(limiter.hit('other' as 'auth', '203.0.113.7'), TypeError);
  });
});
