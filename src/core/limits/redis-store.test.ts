import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { CounterStore } from './counter-store.js';
import { LoginThrottle } from './login-throttle.js';
import { createRedisCounterStore } from './redis-store.js';
import { REDIS_TEST_URL, redisSkipReason } from '../test-redis.js';

const REDIS_URL = REDIS_TEST_URL;
const skip = await redisSkipReason();
if (skip) console.log(`skipping Redis tests: ${skip}`);

describe('createRedisCounterStore against a real Redis', { skip }, () => {
  const prefix = `hush-test:${randomUUID()}:`;
  const stores: CounterStore[] = [];
  let admin: Redis;
  const open = (): CounterStore => {
    const store = createRedisCounterStore(REDIS_URL, { prefix, warn: (m) => assert.fail(`unexpected warning: ${m}`) });
    stores.push(store);
    return store;
  };

  before(() => {
    admin = new Redis(REDIS_URL);
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('counts hits in a window that opens at the first hit, under its prefix', async () => {
    const store = open();
    const before = Date.now();
    const first = await store.hit('k1', 60_000);
    assert.equal(first.count, 1);
    assert.ok(first.resetAt >= before + 59_000 && first.resetAt <= Date.now() + 60_000);
    assert.equal((await store.hit('k1', 60_000)).count, 2);
    const seen = await store.peek('k1');
    assert.equal(seen?.count, 2);
    assert.ok(Math.abs((seen?.resetAt ?? 0) - first.resetAt) < 1000, 'the window does not move');
    assert.equal(await admin.get(`${prefix}k1`), '2');
    const ttl = await admin.pttl(`${prefix}k1`);
    assert.ok(ttl > 55_000 && ttl <= 60_000);
  });

  it('forgets a key when its window ends', async () => {
    const store = open();
    await store.hit('short', 150);
    await store.hit('short', 150);
    await sleep(250);
    assert.equal(await store.peek('short'), undefined);
    assert.equal((await store.hit('short', 150)).count, 1);
  });

  it('sets with a time to live, and deletes', async () => {
    const store = open();
    await store.set('s', 7, 30_000);
    const seen = await store.peek('s');
    assert.equal(seen?.count, 7);
    assert.ok((seen?.resetAt ?? 0) - Date.now() > 25_000);
    assert.equal((await store.hit('s', 1000)).count, 8, 'a hit keeps the TTL that set gave');
    await store.delete('s');
    assert.equal(await store.peek('s'), undefined);
    assert.equal(await store.peek('never'), undefined);
  });

  it('counts exactly under concurrent hits from two instances', async () => {
    const a = open();
    const b = open();
    const counts = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).hit('shared', 60_000).then((r) => r.count)),
    );
    assert.deepEqual([...counts].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('lets two LoginThrottle instances sharing it count failures together', async () => {
    const one = new LoginThrottle(open());
    const two = new LoginThrottle(open());
    for (let i = 0; i < 10; i++) {
      const throttle = i % 2 === 0 ? one : two;
      assert.equal((await throttle.check('Mallory', '203.0.113.7')).allowed, true);
      await throttle.recordFailure('Mallory', '203.0.113.7');
    }
    for (const throttle of [one, two]) {
      const decision = await throttle.check('mallory', '203.0.113.7');
      assert.equal(decision.allowed, false);
      assert.ok(!decision.allowed && decision.retryAfter > 890 && decision.retryAfter <= 900);
    }
    assert.equal((await two.check('mallory', '198.51.100.1')).allowed, true);

    // The username-wide delay is shared as well.
    for (let i = 1; i <= 11; i++) {
      const throttle = i % 2 === 0 ? one : two;
      await throttle.check('victim', `198.51.100.${i}`);
      await throttle.recordFailure('victim', `198.51.100.${i}`);
    }
    const shared = new LoginThrottle(open(), { usernameThreshold: 10 });
    assert.equal((await shared.check('victim', '192.0.2.1')).allowed, true, 'threshold 20 not yet passed');
    await shared.recordFailure('victim', '192.0.2.1'); // 12 > 10 here: this instance sets a 4 s lock
    assert.deepEqual(await one.check('VICTIM', '192.0.2.2'), { allowed: false, retryAfter: 4 });
  });

  it('falls back to memory while Redis is cut off, and shares counters again once it is back', async () => {
    const target = new URL(REDIS_URL);
    const sockets = new Set<Socket>();
    const startProxy = (port: number): Promise<Server> =>
      new Promise((resolve) => {
        const server = createServer((client) => {
          const upstream = createConnection({ host: target.hostname, port: Number(target.port || 6379) });
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on('error', () => undefined);
            s.on('close', () => sockets.delete(s));
          }
          client.pipe(upstream).pipe(client);
        });
        server.listen(port, '127.0.0.1', () => resolve(server));
      });
    let proxy = await startProxy(0);
    const port = (proxy.address() as AddressInfo).port;
    const warnings: string[] = [];
    const store = createRedisCounterStore(`redis://127.0.0.1:${port}`, { prefix, warn: (m) => warnings.push(m) });
    stores.push(store);

    assert.equal((await store.hit('cut', 60_000)).count, 1);
    assert.equal(await admin.get(`${prefix}cut`), '1');

    await new Promise<void>((resolve) => {
      proxy.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    await sleep(50);
    assert.equal((await store.hit('cut', 60_000)).count, 1, 'counted in memory meanwhile');
    assert.equal(await admin.get(`${prefix}cut`), '1');
    assert.equal(warnings.length, 1);

    proxy = await startProxy(port);
    for (let i = 0; i < 50 && (await store.hit('probe', 60_000), (await admin.get(`${prefix}probe`)) === null); i++) {
      await sleep(100);
    }
    assert.equal((await store.hit('cut', 60_000)).count, 2, 'back on the shared counter');
    assert.match(warnings.at(-1) ?? '', /shared again/);
    await store.close();
    await new Promise<void>((resolve) => {
      proxy.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  });

  it('stores no raw username or address in its keys', async () => {
    const throttle = new LoginThrottle(open());
    await throttle.check('secret-looking-name', '203.0.113.99');
    await throttle.recordFailure('secret-looking-name', '203.0.113.99');
    const keys = await admin.keys(`${prefix}*`);
    assert.ok(keys.length > 0);
    for (const key of keys) assert.doesNotMatch(key, /secret-looking-name|203\.0\.113\.99/);
  });
});

describe('createRedisCounterStore without a reachable Redis', () => {
  it('keeps counting in memory, warns without secrets, and never crashes the process', async () => {
    const warnings: string[] = [];
    const store = createRedisCounterStore('redis://:hunter2-secret@127.0.0.1:1', {
      prefix: 'unreachable:',
      warn: (message) => warnings.push(message),
    });
    assert.equal((await store.hit('k', 60_000)).count, 1);
    assert.equal((await store.hit('k', 60_000)).count, 2);
    assert.equal((await store.peek('k'))?.count, 2);
    await store.set('j', 5, 60_000);
    assert.equal((await store.peek('j'))?.count, 5);
    await store.delete('j');
    assert.equal(await store.peek('j'), undefined);

    const throttle = new LoginThrottle(store);
    for (let i = 0; i < 10; i++) {
      await throttle.check('alice', '203.0.113.7');
      await throttle.recordFailure('alice', '203.0.113.7');
    }
    assert.equal((await throttle.check('alice', '203.0.113.7')).allowed, false, 'limits stay in force');

    await sleep(300); // let a few reconnect attempts fail
    assert.equal(warnings.length, 1, 'one warning, not one per failed reconnect');
    assert.match(warnings[0] ?? '', /Redis/);
    for (const warning of warnings) assert.doesNotMatch(warning, /hunter2|127\.0\.0\.1|alice/);
    await store.close();
  });

  it('refuses a malformed URL without repeating it', () => {
    assert.throws(
      () => createRedisCounterStore('redis://:hunter2@[bad', {}),
      (error: unknown) => error instanceof Error && !error.message.includes('hunter2'),
    );
  });
});
