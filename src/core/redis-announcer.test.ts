import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../store/sqlite.js';
import { redisSkipReason, REDIS_TEST_URL } from './test-redis.js';
import { createRedisAnnouncer } from './redis-announcer.js';
import { RevocationFeed, type RevocationAnnouncer } from './revocations.js';

const skip = await redisSkipReason();

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/**
 * Waits until `count()` has not changed for `turns` consecutive sleeps of 50 ms, at most `ms`: messages
 * already on their way have arrived. Counted in turns of the event loop, not in elapsed time, so a
 * process paused by a loaded machine (whose socket data is read only on a later turn) is not taken
 * for a quiet one.
 */
async function quiet(count: () => number, ms = 5000, turns = 6): Promise<void> {
  const deadline = performance.now() + ms;
  let last = count();
  let still = 0;
  while (still < turns) {
    assert.ok(performance.now() < deadline, `messages kept arriving for ${ms} ms`);
    await sleep(50);
    const now = count();
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

describe('revocation announcements through Redis', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-announcer-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const noWarning = (message: string): never => assert.fail(`unexpected warning: ${message}`);

  /** Two announcers, `b` subscribed; runs `body` once an announcement of `a` has reached `b`. */
  async function withSubscribedPair(body: (a: RevocationAnnouncer, woken: () => number) => Promise<void>): Promise<void> {
    const a = createRedisAnnouncer(REDIS_TEST_URL, { warn: noWarning });
    const b = createRedisAnnouncer(REDIS_TEST_URL, { warn: noWarning });
    let count = 0;
    const watch = await b.subscribe(() => count++);
    try {
      // SUBSCRIBE is not awaited by subscribe(): announce until the subscription is in place.
      assert.ok(await until(() => count > 0 || (a.announce(), false), 2000), 'no announcement arrived');
      await body(a, () => count);
    } finally {
      await watch.close();
      await Promise.all([a.close(), b.close()]);
    }
  }

  it('wakes every subscriber, on every announcer, when one announces', async () => {
    await withSubscribedPair(async () => undefined);
  });

  it('sends announcements made in one tick as one message, and a later one again', async () => {
    await withSubscribedPair(async (a, woken) => {
      await quiet(woken); // stragglers of the wait for the subscription
      const before = woken();
      for (let i = 0; i < 50; i++) a.announce();
      assert.ok(await until(() => woken() > before, 5000), 'the burst arrived');
      await quiet(woken);
      assert.equal(woken() - before, 1, 'a burst in one tick is one message');
      a.announce();
      assert.ok(await until(() => woken() - before === 2, 5000), 'a later announcement is sent too');
    });
  });

  it("lets a feed that polls once an hour see another instance's notice at once", async () => {
    const path = join(dir, 'feed.sqlite');
    const storeA = await openSqliteStore(path);
    await storeA.migrate();
    const storeB = await openSqliteStore(path);
    const announcers = [createRedisAnnouncer(REDIS_TEST_URL, { warn: noWarning }), createRedisAnnouncer(REDIS_TEST_URL, { warn: noWarning })] as const;
    const a = new RevocationFeed(storeA, { pollInterval: 3_600_000, announcer: announcers[0] });
    const b = new RevocationFeed(storeB, { pollInterval: 3_600_000, announcer: announcers[1] });
    await a.start();
    await b.start();
    try {
      // b's SUBSCRIBE is not awaited: announce a first notice until b hears of it, so it is in place.
      await a.publish({ kind: 'user', userId: 'u-warm-up', version: 2, expiresAt: new Date(Date.now() + 60_000) });
      assert.ok(await until(() => b.list.isRevoked('u-warm-up', 's', 1) || (announcers[0].announce(), false), 5000), 'b never subscribed');
      const started = performance.now();
      await a.publish({ kind: 'user', userId: 'u-redis', version: 2, expiresAt: new Date(Date.now() + 60_000) });
      // Once, and within the contract's 2 s: only the announcement can bring it before the hourly poll.
      assert.ok(await until(() => b.list.isRevoked('u-redis', 's', 1), 2000), 'b never learned of the notice');
      console.log(`# notice seen by the other feed after ${(performance.now() - started).toFixed(1)} ms`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await Promise.all(announcers.map((x) => x.close()));
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });

  it('neither throws nor delays when Redis is unreachable, and warns once, naming only the error code', async () => {
    // A port that refuses connections: listen, note the port, close.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const warnings: string[] = [];
    const announcer = createRedisAnnouncer(`redis://:s3cret-password@127.0.0.1:${port}`, { warn: (m) => warnings.push(m) });
    const watch = await announcer.subscribe(() => assert.fail('woken without an announcement'));
    try {
      // Announcing cannot wait for Redis: it returns nothing to await, and no turn of the event loop
      // (where a reply could be read) happens until the calls are done.
      let turned = false;
      setImmediate(() => (turned = true));
      for (let i = 0; i < 5; i++) assert.equal(announcer.announce() as unknown, undefined);
      assert.equal(turned, false, 'announcing waited for Redis');
      assert.ok(await until(() => warnings.length > 0, 10_000), 'no warning');
      await sleep(1500); // more failed reconnects and failed publishes
      assert.equal(warnings.length, 1, warnings.join('\n'));
      // The error code, and nothing from the URL (its password least of all).
      assert.match(warnings[0]!, /\(ECONNREFUSED\)/);
      assert.doesNotMatch(warnings[0]!, /s3cret|127\.0\.0\.1|redis:/);
    } finally {
      await watch.close();
      await announcer.close();
    }
  });
});
