import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../store/sqlite.js';
import { pruneExpired } from './maintenance.js';

describe('maintenance', () => {
  it('deletes expired revocation notices and sessions, and keeps the live ones', async () => {
    const store = await openSqliteStore(':memory:');
    await store.migrate();
    const now = Date.now();
    const user = await store.createUser({ id: randomUUID(), username: 'keeper', passwordHash: 'x', salt: 's' });
    await store.addRevocation({ kind: 'session', sessionId: 'old', expiresAt: new Date(now - 1) });
    const live = await store.addRevocation({ kind: 'session', sessionId: 'live', expiresAt: new Date(now + 60_000) });
    const liveUser = await store.addRevocation({ kind: 'user', userId: user.id, version: 2, expiresAt: new Date(now + 1) });
    await store.createSession({ id: 'old', userId: user.id, createdAt: new Date(now - 10), expiresAt: new Date(now - 1), userAgent: null, address: null });
    await store.createSession({ id: 'live', userId: user.id, createdAt: new Date(now), expiresAt: new Date(now + 60_000), userAgent: null, address: null });
    assert.deepEqual(await pruneExpired(store, new Date(now)), { revocations: 1, sessions: 1 });
    assert.equal(await store.findSession('old'), undefined);
    assert.equal((await store.findSession('live'))?.id, 'live');
    // The live notices themselves survive, the one expiring a millisecond from now included.
    assert.deepEqual(await store.revocationsSince(0, new Date(0)), [live, liveUser]);
    // Pruned again at the same moment, nothing more goes.
    assert.deepEqual(await pruneExpired(store, new Date(now)), { revocations: 0, sessions: 0 });
    await store.close();
  });
});
