import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupCommit } from './group-commit.js';

describe('group commit', () => {
  it('writes items queued in the same tick as one batch, and gives each its own result', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, string>(async (items) => {
      batches.push([...items]);
      return items.map((n) => `#${n}`);
    });
    const results = await Promise.all([1, 2, 3].map((n) => group.add(n)));
    assert.deepEqual(results, ['#1', '#2', '#3']);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it('queues what arrives during a write and writes it next, one write at a time', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    const group = new GroupCommit<number, number>(async (items) => {
      inFlight++;
      assert.equal(inFlight, 1, 'two writes overlapped');
      batches.push([...items]);
      await sleep(20);
      inFlight--;
      return [...items];
    });
    const first = group.add(1);
    await sleep(5);
    const later = [2, 3, 4].map((n) => group.add(n));
    assert.deepEqual(await Promise.all([first, ...later]), [1, 2, 3, 4]);
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
  });

  it('splits a burst into batches of at most maxBatch, in arrival order', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      batches.push([...items]);
      return [...items];
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => group.add(n)));
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
  });

  it('rejects every item of a failed batch with its error, and goes on with the next', async () => {
    let calls = 0;
    const group = new GroupCommit<number, number>(async (items) => {
      calls++;
      if (calls === 1) {
        await sleep(10);
        throw new Error('database gone');
      }
      return [...items];
    });
    const failed = [group.add(1), group.add(2)];
    await sleep(1);
    const next = group.add(3);
    for (const f of failed) await assert.rejects(f, /database gone/);
    assert.equal(await next, 3);
  });

  it('rejects a batch whose write returned the wrong number of results', async () => {
    const group = new GroupCommit<number, number>(async () => [1]);
    const both = [group.add(1), group.add(2)];
    for (const p of both) await assert.rejects(p, /a batch of 2 wrote 1/);
  });

  it('running settles once everything queued so far is written, and is undefined when idle', async () => {
    const written: number[] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      await sleep(10);
      written.push(...items);
      return [...items];
    });
    assert.equal(group.running, undefined);
    void group.add(1);
    void group.add(2);
    await group.running;
    assert.deepEqual(written, [1, 2]);
    assert.equal(group.running, undefined);
  });

  it('refuses a maxBatch that is not a positive integer (an empty batch would never drain)', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new GroupCommit<number, number>(async (items) => [...items], bad), RangeError);
    }
  });
});
