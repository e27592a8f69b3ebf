import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openPostgresStore } from '../store/postgres.js';
import { openSqliteStore } from '../store/sqlite.js';
import { createTestPostgresDatabase, postgresSkipReason } from '../store/test-db.js';
import { DELETED_VERSION, RevocationFeed, RevocationList, type RevocationStore } from './revocations.js';

const later = new Date(Date.now() + 60_000);
const pgSkip = await postgresSkipReason();

describe('RevocationList', () => {
  it('refuses tokens of a credential version below the revoked one, and only those', () => {
    const list = new RevocationList();
    list.apply({ kind: 'user', userId: 'u1', version: 3, expiresAt: later });
    assert.equal(list.isRevoked('u1', 's', 2), true);
    assert.equal(list.isRevoked('u1', 's', 3), false, 'the token a password change returns stays valid');
    assert.equal(list.isRevoked('u2', 's', 1), false, 'other users are unaffected');
  });

  it('never lets a lower version undo a higher one', () => {
    const list = new RevocationList();
    list.apply({ kind: 'user', userId: 'u1', version: 5, expiresAt: later });
    list.apply({ kind: 'user', userId: 'u1', version: 4, expiresAt: later });
    assert.equal(list.isRevoked('u1', 's', 4), true);
  });

  it('refuses every token of a deleted account', () => {
    const list = new RevocationList();
    list.apply({ kind: 'user', userId: 'u1', version: DELETED_VERSION, expiresAt: later });
    assert.equal(list.isRevoked('u1', 's', 1_000_000), true);
  });

  it('refuses tokens of a revoked session', () => {
    const list = new RevocationList();
    list.apply({ kind: 'session', sessionId: 's1', expiresAt: later });
    assert.equal(list.isRevoked('u1', 's1', 1), true);
    assert.equal(list.isRevoked('u1', 's2', 1), false);
  });

  it('forgets notices once every token they cover has expired', () => {
    const list = new RevocationList();
    list.apply({ kind: 'user', userId: 'u1', version: 2, expiresAt: new Date(1000) });
    list.apply({ kind: 'session', sessionId: 's1', expiresAt: new Date(1000) });
    list.prune(1001);
    assert.equal(list.size, 0);
  });

  it('keeps, when it prunes, every notice that still covers a live token, and still refuses those tokens', () => {
    const list = new RevocationList();
    list.apply({ kind: 'user', userId: 'gone', version: 2, expiresAt: new Date(1000) });
    list.apply({ kind: 'session', sessionId: 'gone', expiresAt: new Date(1000) });
    list.apply({ kind: 'user', userId: 'u1', version: 2, expiresAt: new Date(1001) });
    list.apply({ kind: 'session', sessionId: 's1', expiresAt: new Date(1001) });
    list.prune(1000);
    assert.equal(list.size, 2);
    assert.equal(list.isRevoked('u1', 'x', 1), true);
    assert.equal(list.isRevoked('u9', 's1', 1), true);
    assert.equal(list.isRevoked('gone', 'gone', 1), false);
  });
});

describe('RevocationFeed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-revocations-'));
  after(() => rm(dir, { recursive: true, force: true }));

  it('carries a notice published by one instance to another through the store', async () => {
    const storeA = await openSqliteStore(join(dir, 'a.sqlite'));
    await storeA.migrate();
    const storeB = await openSqliteStore(join(dir, 'a.sqlite'));
    const a = new RevocationFeed(storeA, { pollInterval: 50 });
    const b = new RevocationFeed(storeB, { pollInterval: 50 });
    await a.start();
    await b.start();
    try {
      await a.publish({ kind: 'user', userId: 'u1', version: 2, expiresAt: later });
      assert.equal(a.list.isRevoked('u1', 's', 1), true, 'the publishing instance applies it at once');
      const started = Date.now();
      while (!b.list.isRevoked('u1', 's', 1)) {
        assert.ok(Date.now() - started < 2000, 'the other instance learns it within 2 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await a.stop();
      await b.stop();
      await storeA.close();
      await storeB.close();
    }
  });

  it('hears of a notice from another PostgreSQL instance through LISTEN/NOTIFY, well before the next poll', { skip: pgSkip }, async () => {
    const db = await createTestPostgresDatabase();
    const storeA = await openPostgresStore(db.url);
    const storeB = await openPostgresStore(db.url);
    await storeA.migrate();
    // Polling once an hour: only the notification can deliver the notice in time.
    const a = new RevocationFeed(storeA, { pollInterval: 3_600_000 });
    const b = new RevocationFeed(storeB, { pollInterval: 3_600_000 });
    await a.start();
    await b.start();
    try {
      const started = Date.now();
      await a.publish({ kind: 'session', sessionId: 'notified', expiresAt: later });
      while (!b.list.isRevoked('u', 'notified', 1)) {
        // The contract's 2 s, against an hour for the poll: a deadline, not a speed measurement.
        assert.ok(Date.now() - started < 2000, 'delivered within the contract\'s 2 s');
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await a.stop();
      await b.stop();
      await storeA.close();
      await storeB.close();
      await db.drop();
    }
  });

  it('loads the live notices at start', async () => {
    const store = await openSqliteStore(join(dir, 'b.sqlite'));
    await store.migrate();
    await store.addRevocation({ kind: 'session', sessionId: 's9', expiresAt: later });
    const feed = new RevocationFeed(store);
    await feed.start();
    await feed.stop();
    assert.equal(feed.list.isRevoked('u', 's9', 1), true);
    await store.close();
  });

  it('stop() lets a poll in flight finish first, and polls nothing after, so the store can close under it', async () => {
    const store = await openSqliteStore(join(dir, 'c.sqlite'));
    await store.migrate();
    let release: () => void = () => undefined;
    let inFlight = 0;
    let reads = 0;
    // The store, with every read of the feed held until released.
    const slow: RevocationStore = {
      addRevocation: (revocation) => store.addRevocation(revocation),
      watchRevocations: (onChange) => store.watchRevocations(onChange),
      async revocationsSince(seq, now) {
        reads++;
        inFlight++;
        await new Promise<void>((resolve) => (release = resolve));
        try {
          return await store.revocationsSince(seq, now);
        } finally {
          inFlight--;
        }
      },
    };
    const feed = new RevocationFeed(slow, { pollInterval: 60_000, onError: (e) => assert.fail(String(e)) });
    const starting = feed.start();
    release();
    await starting;
    const polling = feed.poll();
    assert.equal(inFlight, 1);
    let stopped = false;
    const stopping = feed.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(stopped, false, 'stop() waits for the poll in flight');
    release();
    await Promise.all([polling, stopping]);
    await store.close();
    const before = reads;
    await feed.poll();
    assert.equal(reads, before, 'a wake-up after stop() reads nothing');
  });
});
