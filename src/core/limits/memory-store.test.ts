import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createMemoryCounterStore } from './memory-store.js';

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('createMemoryCounterStore', () => {
  it('counts hits in a window that opens at the first hit and does not move', async () => {
    const c = clock();
    const store = createMemoryCounterStore({ now: c.now });
    assert.deepEqual(await store.hit('k', 1000), { count: 1, resetAt: c.now() + 1000 });
    const opened = c.now();
    c.advance(600);
    assert.deepEqual(await store.hit('k', 1000), { count: 2, resetAt: opened + 1000 });
    assert.deepEqual(await store.peek('k'), { count: 2, resetAt: opened + 1000 });
    await store.close();
  });

  it('forgets a key when its window ends', async () => {
    const c = clock();
    const store = createMemoryCounterStore({ now: c.now });
    await store.hit('k', 1000);
    await store.hit('k', 1000);
    c.advance(999);
    assert.equal((await store.peek('k'))?.count, 2);
    c.advance(1);
    assert.equal(await store.peek('k'), undefined);
    assert.equal((await store.hit('k', 1000)).count, 1);
    await store.close();
  });

  it('keeps keys apart', async () => {
    const store = createMemoryCounterStore();
    await store.hit('a', 1000);
    await store.hit('a', 1000);
    assert.equal((await store.hit('b', 1000)).count, 1);
    assert.equal(await store.peek('c'), undefined);
    await store.close();
  });

  it('sets a value with its own time to live, and deletes', async () => {
    const c = clock();
    const store = createMemoryCounterStore({ now: c.now });
    await store.hit('k', 60_000);
    await store.set('k', 7, 500);
    assert.deepEqual(await store.peek('k'), { count: 7, resetAt: c.now() + 500 });
    assert.equal((await store.hit('k', 60_000)).count, 8);
    await store.delete('k');
    assert.equal(await store.peek('k'), undefined);
    c.advance(501);
    await store.set('j', 1, 100);
    c.advance(100);
    assert.equal(await store.peek('j'), undefined);
    await store.close();
  });

  it('never holds more than maxKeys, dropping the oldest window first', async () => {
    const store = createMemoryCounterStore({ maxKeys: 3 });
    for (const key of ['a', 'b', 'c', 'd']) await store.hit(key, 60_000);
    assert.equal(await store.peek('a'), undefined);
    for (const key of ['b', 'c', 'd']) assert.equal((await store.peek(key))?.count, 1);
    await store.close();
  });

  it('evicts windows opened by hit before any value written by set (a lock), however old the lock', async () => {
    const store = createMemoryCounterStore({ maxKeys: 3 });
    await store.set('lock', 5, 60_000);
    for (let i = 0; i < 50; i++) await store.hit(`window-${i}`, 60_000);
    assert.equal((await store.peek('lock'))?.count, 5);
    assert.equal((await store.hit('lock', 60_000)).count, 6, 'a hit on a lock keeps it a lock');
    for (let i = 50; i < 100; i++) await store.hit(`window-${i}`, 60_000);
    assert.equal((await store.peek('lock'))?.count, 6);
    assert.equal((await store.peek('window-99'))?.count, 1);
    assert.equal(await store.peek('window-97'), undefined);
    await store.close();
  });

  it('evicts the oldest lock only when nothing but locks is left', async () => {
    const store = createMemoryCounterStore({ maxKeys: 2 });
    await store.set('lock-a', 1, 60_000);
    await store.set('lock-b', 1, 60_000);
    await store.hit('window', 60_000);
    assert.equal(await store.peek('lock-a'), undefined);
    assert.equal((await store.peek('lock-b'))?.count, 1);
    assert.equal((await store.peek('window'))?.count, 1);
    await store.set('lock-c', 1, 60_000);
    assert.equal(await store.peek('window'), undefined);
    assert.equal((await store.peek('lock-b'))?.count, 1);
    await store.close();
  });

  it('sweeps expired keys in the background, so they do not push live ones out', async () => {
    const c = clock();
    const store = createMemoryCounterStore({ maxKeys: 2, now: c.now, sweepIntervalMs: 5 });
    await store.hit('live', 60_000);
    await store.hit('short', 10);
    c.advance(10);
    await sleep(30); // let the (unref'd) sweep timer run
    await store.hit('new', 60_000);
    assert.equal((await store.peek('live'))?.count, 1);
    assert.equal((await store.peek('new'))?.count, 1);
    await store.close();
  });

  it('refuses a nonsensical maxKeys', () => {
    assert.throws(() => createMemoryCounterStore({ maxKeys: 0 }), RangeError);
  });
});
