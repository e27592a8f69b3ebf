// The two session strategies, specified over a real SQLite store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../store/sqlite.js';
import type { Store, UserRecord } from '../../store/types.js';
import { AuthError } from '../errors.js';
import { RefreshTokenCodec } from '../refresh-tokens.js';
import { rotatingSessions, statelessSessions } from './index.js';
import type { SessionPolicy } from './types.js';

let now = Date.now();
const codec = new RefreshTokenCodec('refresh-secret-refresh-secret-refresh-secret', () => now);
const origin = { address: '192.0.2.7', userAgent: 'spec' };
const policy: SessionPolicy = { refreshTtl: 3600, sessionMax: 7200, reuseGrace: 10, clock: () => now };

let dir: string;
let store: Store;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hush-sessions-'));
  store = await openSqliteStore(join(dir, 'hush.sqlite'));
  await store.migrate();
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function newUser(): Promise<UserRecord> {
  return store.createUser({ id: randomUUID(), username: `u${randomUUID().slice(0, 8)}`, passwordHash: 'x', salt: randomUUID() });
}

const refused = async (promise: Promise<unknown>, code = 'invalid_refresh_token'): Promise<void> => {
  await assert.rejects(promise, (e: unknown) => e instanceof AuthError && e.code === code);
};

describe('stateless sessions', () => {
  const sessions = statelessSessions({ codec, policy });

  it('refresh slides the expiry but never past the session maximum', async () => {
    const start = (now = Date.now());
    const user = await newUser();
    const first = await sessions.start(user, origin);
    assert.equal(first.refreshMaxAge, 3600);
    now = start + 3000 * 1000;
    const second = await sessions.refresh(user, first.refreshToken);
    assert.equal(second.sid, first.sid);
    assert.equal(second.refreshMaxAge, 3600, 'slid forward by the refresh lifetime');
    now = start + 6000 * 1000;
    await refused(sessions.refresh(user, first.refreshToken)); // expired at +3600
    const third = await sessions.refresh(user, second.refreshToken);
    assert.equal(third.refreshMaxAge, 7200 - 6000, 'capped by the absolute session lifetime');
    now = start + 7200 * 1000;
    await refused(sessions.refresh(user, third.refreshToken));
  });

  it('cannot list or end single sessions', async () => {
    const user = await newUser();
    await refused(sessions.list(user, 'x'), 'not_supported');
    await refused(sessions.endById(user, 'x'), 'not_supported');
  });
});

describe('rotating sessions', () => {
  const revokedAccess: string[] = [];
  const reused: string[] = [];
  let sessions: ReturnType<typeof rotatingSessions>;
  before(() => {
    sessions = rotatingSessions({
      codec,
      policy,
      store,
      revokeAccess: async (sid) => void revokedAccess.push(sid),
      onReuse: (s) => void reused.push(s.id),
    });
  });

  it('issues a new token on every refresh, and the replaced one yields that same successor byte for byte while it is unused', async () => {
    now = Date.now();
    const user = await newUser();
    const t0 = await sessions.start(user, origin);
    const t1 = await sessions.refresh(user, t0.refreshToken);
    assert.notEqual(t1.refreshToken, t0.refreshToken);
    const again = await sessions.refresh(user, t0.refreshToken);
    assert.equal(again.refreshToken, t1.refreshToken);
    assert.equal((await store.findSession(t0.sid))?.counter, 1);
  });

  it('rotates exactly once under 50 concurrent refreshes of one token, all receiving the same successor', async () => {
    now = Date.now();
    const user = await newUser();
    const t0 = await sessions.start(user, origin);
    const results = await Promise.all(Array.from({ length: 50 }, () => sessions.refresh(user, t0.refreshToken)));
    assert.equal(new Set(results.map((r) => r.refreshToken)).size, 1);
    assert.equal((await store.findSession(t0.sid))?.counter, 1);
  });

  it('yields the successor of a replaced token used within the grace, and revokes the session after it', async () => {
    now = Date.now();
    const user = await newUser();
    const t0 = await sessions.start(user, origin);
    const t1 = await sessions.refresh(user, t0.refreshToken);
    now += 2000;
    const t2 = await sessions.refresh(user, t1.refreshToken); // t1 used: t0's successor first used now
    now += 3000; // within the 10 s grace
    assert.equal((await sessions.refresh(user, t0.refreshToken)).refreshToken, t1.refreshToken);
    now += 10_000; // past it
    await refused(sessions.refresh(user, t0.refreshToken));
    assert.deepEqual(reused.slice(-1), [t0.sid]);
    assert.ok(revokedAccess.includes(t0.sid), "the session's access tokens are revoked too");
    await refused(sessions.refresh(user, t2.refreshToken), 'invalid_refresh_token');
  });

  it('lists live sessions with the current one marked, and ends one by id (another user: not_found)', async () => {
    now = Date.now();
    const user = await newUser();
    const a = await sessions.start(user, origin);
    const b = await sessions.start(user, { address: '198.51.100.1' });
    const list = await sessions.list(user, a.sid);
    assert.deepEqual(list.map((s) => [s.id, s.current]).sort(), [[a.sid, true], [b.sid, false]].sort());
    assert.equal(list.find((s) => s.id === a.sid)?.userAgent, 'spec');
    const stranger = await newUser();
    await refused(sessions.endById(stranger, b.sid), 'not_found');
    await sessions.endById(user, b.sid);
    await refused(sessions.refresh(user, b.refreshToken));
    await refused(sessions.endById(user, b.sid), 'not_found');
  });

  it('logout ends only that session', async () => {
    now = Date.now();
    const user = await newUser();
    const a = await sessions.start(user, origin);
    const b = await sessions.start(user, origin);
    assert.equal(await sessions.end(user, a.refreshToken), a.sid);
    await refused(sessions.refresh(user, a.refreshToken));
    assert.ok(await sessions.refresh(user, b.refreshToken));
  });

  it('after a credential change, the current session goes on under the new key and every other one ends', async () => {
    now = Date.now();
    const user = await newUser();
    const mine = await sessions.start(user, origin);
    const other = await sessions.start(user, origin);
    const bumped = (await store.bumpCredentialVersion(user.id, user.credentialVersion))!;
    const next = await sessions.continueAfterCredentialChange(bumped, mine.sid, mine.authTime);
    assert.ok(next);
    assert.ok(await sessions.refresh(bumped, next.refreshToken));
    await refused(sessions.refresh(bumped, other.refreshToken));
    assert.deepEqual((await sessions.list(bumped, mine.sid)).map((s) => s.id), [mine.sid]);
  });
});
