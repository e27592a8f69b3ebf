// The auth service's checks that no HTTP test would notice breaking: the store has the last word on
// account routes when the revocation feed lags, an unknown user pays for a dummy verify, and a
// password upgrade (rehash) never reverts a password change. Over SQLite :memory:.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { PasswordHasher } from './password.js';
import { aroundStoreCall, CTX, FAST_PARAMS, refusedWith, servicesClosedAfterAll, SpyHasher, uniqueName, type TestService } from './test-service.js';

const open = servicesClosedAfterAll();

describe('account routes while the revocation feed lags (the store has the last word)', () => {
  it('refuse a token whose credential version the store has moved past, though no notice reached the feed', async () => {
    const t = await open();
    const username = uniqueName('stale');
    const grant = await t.service.signup(username, 'password-one', CTX);
    const claims = t.service.authenticate(grant.accessToken);
    const user = (await t.store.findUserByUsername(username))!;
    // Another instance's change, say, whose notice this instance has not polled yet.
    assert.ok(await t.store.bumpCredentialVersion(user.id, user.credentialVersion));
    assert.equal(t.service.authenticate(grant.accessToken).sub, user.id, 'the feed is behind: the token itself still verifies');
    await refusedWith(t.service.me(claims), 'invalid_token', 401);
    await refusedWith(t.service.logoutAll(claims), 'invalid_token', 401);
    await refusedWith(t.service.changePassword(claims, 'password-one', 'password-two', CTX), 'invalid_token', 401);
  });

  it("refuse a suspended user's token, though no notice reached the feed", async () => {
    const t = await open();
    const username = uniqueName('susp');
    const grant = await t.service.signup(username, 'password-one', CTX);
    const claims = t.service.authenticate(grant.accessToken);
    const user = (await t.store.findUserByUsername(username))!;
    // A suspension whose version the token matches: only the flag can refuse it.
    await t.store.bumpCredentialVersion(user.id, user.credentialVersion, { suspended: true });
    const forged = t.service.authenticate(t.accessTokens.issue({ ...user, credentialVersion: user.credentialVersion + 1 }, claims.sid, 0).token);
    await refusedWith(t.service.me(forged), 'invalid_token', 401);
    await refusedWith(t.service.changePassword(forged, 'password-one', 'password-two', CTX), 'invalid_token', 401);
  });
});

describe('login', () => {
  it('of an unknown user spends one dummy verify, as a wrong password spends one real verify', async () => {
    const hasher = new SpyHasher({ params: { ...FAST_PARAMS }, concurrency: 2 });
    const t = await open({ hasher });
    const username = uniqueName('known');
    await t.service.signup(username, 'password-one', CTX);
    for (const unknown of [uniqueName('nobody'), 'no such user!']) {
      const before = { ...hasher.calls };
      await refusedWith(t.service.login(unknown, 'password-one', CTX), 'invalid_credentials', 401);
      assert.deepEqual(hasher.calls, { ...before, verifyDummy: before.verifyDummy + 1 }, `dummy verify for ${JSON.stringify(unknown)}`);
    }
    const before = { ...hasher.calls };
    await refusedWith(t.service.login(username, 'wrong-password', CTX), 'invalid_credentials', 401);
    assert.deepEqual(hasher.calls, { ...before, verify: before.verify + 1 });
  });
});

describe('password upgrades (rehash after a login with older argon2 parameters)', () => {
  const OLD = { ...FAST_PARAMS };
  const CURRENT = { ...FAST_PARAMS, timeCost: 2 };

  /** A service hashing with CURRENT on four threads, tracking its store's hash writes. */
  async function upgrading(): Promise<{ t: TestService; writes: { started: number; pending: Set<Promise<unknown>> }; settled: () => Promise<void> }> {
    const writes = { started: 0, pending: new Set<Promise<unknown>>() };
    const t = await open({
      hasher: new SpyHasher({ params: CURRENT, concurrency: 4 }),
      store: (store) =>
        aroundStoreCall(store, 'setPasswordHash', (proceed) => {
          writes.started++;
          const write = proceed();
          writes.pending.add(write);
          const done = (): void => void writes.pending.delete(write);
          write.then(done, done);
          return write;
        }),
    });
    /** Waits until no hash runs and no hash write is in flight (twice in a row, a timer tick apart). */
    const settled = async (): Promise<void> => {
      const idle = (): boolean => t.hasher.active === 0 && t.hasher.waiting === 0 && writes.pending.size === 0;
      const deadline = Date.now() + 30_000;
      for (let quiet = 0; quiet < 2; quiet = idle() ? quiet + 1 : 0) {
        assert.ok(Date.now() < deadline, 'background hashing did not settle within 30 s');
        await Promise.allSettled([...writes.pending]);
        await sleep(2);
      }
    };
    return { t, writes, settled };
  }

  /** A user whose stored hash has the OLD parameters. */
  async function legacyUser(t: TestService, password: string): Promise<string> {
    const username = uniqueName('legacy');
    const passwordHash = await new PasswordHasher({ params: OLD, concurrency: 1 }).hash(password);
    await t.store.createUser({ id: randomUUID(), username, passwordHash, salt: randomUUID() });
    return username;
  }

  it('a login upgrades an older-parameter hash, without changing the credential version', async () => {
    const { t, settled } = await upgrading();
    const username = await legacyUser(t, 'password-one');
    const before = (await t.store.findUserByUsername(username))!;
    await t.service.login(username, 'password-one', CTX);
    await settled();
    const after = (await t.store.findUserByUsername(username))!;
    assert.notEqual(after.passwordHash, before.passwordHash);
    assert.deepEqual(await t.hasher.verify(after.passwordHash, 'password-one'), { ok: true, needsRehash: false });
    assert.equal(after.credentialVersion, before.credentialVersion);
  });

  it('never reverts a password change: 100 trials of logins racing a change, on four hashing threads', async () => {
    const { t, settled } = await upgrading();
    for (let trial = 0; trial < 100; trial++) {
      const username = await legacyUser(t, 'password-old');
      const grant = await t.service.login(username, 'password-old', CTX); // starts an upgrade
      const claims = t.service.authenticate(grant.accessToken);
      await Promise.allSettled([
        t.service.login(username, 'password-old', CTX), // another upgrade, maybe
        t.service.changePassword(claims, 'password-old', 'password-new', CTX),
      ]);
      await settled();
      const stored = (await t.store.findUserByUsername(username))!.passwordHash;
      assert.equal((await t.hasher.verify(stored, 'password-new')).ok, true, `trial ${trial}: the change was reverted`);
    }
  });

  it('the current-password checks (password change, account deletion) start no upgrade', async () => {
    const { t, writes, settled } = await upgrading();
    const hasher = t.hasher as SpyHasher;
    for (const action of ['change', 'delete'] as const) {
      const username = uniqueName('reauth');
      const grant = await t.service.signup(username, 'password-old', CTX);
      const user = (await t.store.findUserByUsername(username))!;
      const legacy = await new PasswordHasher({ params: OLD, concurrency: 1 }).hash('password-old');
      assert.equal(await t.store.setPasswordHash(user.id, legacy, user.passwordHash), true);
      const claims = t.service.authenticate(grant.accessToken);
      const before = { writes: writes.started, hashes: hasher.calls.hash };
      if (action === 'change') await t.service.changePassword(claims, 'password-old', 'password-new', CTX);
      else await t.service.deleteAccount(claims, 'password-old', CTX);
      await settled();
      assert.equal(writes.started, before.writes, `${action}: no hash upgrade written`);
      assert.equal(hasher.calls.hash - before.hashes, action === 'change' ? 1 : 0, `${action}: only the new password is hashed`);
    }
  });
});
