// Credential changes race safely: each is a compare-and-swap on the credential version that was
// read (./credentials.ts), and no session starts for a user whose credentials changed meanwhile.
// The service runs over SQLite :memory:; gates force the interleavings a loaded server produces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessClaims } from './access-tokens.js';
import { AuthError } from './errors.js';
import { CTX, FAST_PARAMS, aroundStoreCall, gate, refusedWith, servicesClosedAfterAll, SpyHasher, uniqueName, type TestService } from './test-service.js';

const open = servicesClosedAfterAll();

/** Signs a user up; returns its claims (as a Bearer route would see them) and its grant. */
async function signedUp(t: TestService, password: string): Promise<{ username: string; claims: AccessClaims; refreshToken: string }> {
  const username = uniqueName('u');
  const grant = await t.service.signup(username, password, CTX);
  return { username, claims: t.service.authenticate(grant.accessToken), refreshToken: grant.refreshToken };
}

/** Whether `password` is the user's stored password. */
async function isPassword(t: TestService, username: string, password: string): Promise<boolean> {
  const user = await t.store.findUserByUsername(username);
  return user !== undefined && (await t.hasher.verify(user.passwordHash, password)).ok;
}

async function liveSessions(t: TestService, username: string): Promise<number> {
  const user = await t.store.findUserByUsername(username);
  return user ? (await t.store.listSessions(user.id, new Date())).length : 0;
}

const spyHasher = (): SpyHasher => new SpyHasher({ params: { ...FAST_PARAMS }, concurrency: 2 });

for (const strategy of ['stateless', 'rotating'] as const) {
  describe(`credential changes (${strategy})`, () => {
    const operatorActions = [
      { name: 'a suspension', act: (t: TestService, username: string) => t.service.setSuspended(username, true) },
      { name: "an operator's reset", act: (t: TestService, username: string) => t.service.setPassword(username, 'operator-password') },
    ];
    for (const { name, act } of operatorActions) {
      it(`a user's password change decided before ${name} writes nothing and is 401 invalid_token`, async () => {
        const hasher = spyHasher();
        const t = await open({ strategy, hasher });
        const { username, claims } = await signedUp(t, 'password-one');
        const held = (hasher.holdNextHash = gate());
        const change = t.service.changePassword(claims, 'password-one', 'attacker-password', CTX);
        await held.reached; // the user was read and the password verified; the new hash is being made
        await act(t, username);
        const operated = await t.store.findUserByUsername(username);
        held.open();
        await refusedWith(change, 'invalid_token', 401);
        assert.deepEqual(await t.store.findUserByUsername(username), operated, 'nothing written: no hash, no version');
        assert.equal(await isPassword(t, username, 'attacker-password'), false);
        assert.equal(await liveSessions(t, username), 0);
      });
    }

    it("an operator's reset wins over a user's change that landed between the operator's read and write", async () => {
      const hasher = spyHasher();
      const t = await open({ strategy, hasher });
      const { username, claims, refreshToken } = await signedUp(t, 'password-one');
      const held = (hasher.holdNextHash = gate());
      const reset = t.service.setPassword(username, 'operator-password');
      await held.reached; // the operator read the user and is hashing the new password
      const userGrant = await t.service.changePassword(claims, 'password-one', 'attacker-password', CTX);
      held.open();
      await reset;
      assert.equal(await isPassword(t, username, 'operator-password'), true);
      assert.equal(await isPassword(t, username, 'attacker-password'), false);
      const userClaims = t.accessTokens.verify(userGrant.accessToken);
      await refusedWith(t.service.me(userClaims), 'invalid_token', 401);
      assert.throws(() => t.service.authenticate(userGrant.accessToken), (e: unknown) => e instanceof AuthError && e.code === 'invalid_token');
      for (const token of [userGrant.refreshToken, refreshToken]) await refusedWith(t.service.refresh(token, CTX), 'invalid_refresh_token', 401);
      assert.equal(await liveSessions(t, username), 0);
    });

    it('a password change that won its race but lost its session to a suspension is 401 and leaves no live session', async () => {
      const held = gate();
      let holdNext = true;
      const t = await open({
        strategy,
        sessions: (sessions) => ({
          ...sessions,
          async continueAfterCredentialChange(user, sid, authTime) {
            if (holdNext) {
              holdNext = false;
              await held.pass();
            }
            return sessions.continueAfterCredentialChange(user, sid, authTime);
          },
        }),
      });
      const { username, claims } = await signedUp(t, 'password-one');
      const change = t.service.changePassword(claims, 'password-one', 'password-two', CTX);
      await held.reached; // written, notice published; the session is about to go on
      await t.service.setSuspended(username, true);
      held.open();
      await refusedWith(change, 'invalid_token', 401);
      assert.equal(await liveSessions(t, username), 0, 'no session of a suspended user lives on');
    });

    it('a login whose session starts as the user is suspended is 403 account_suspended and leaves no live session', async () => {
      const held = gate();
      let holdNext = false;
      const t = await open({
        strategy,
        sessions: (sessions) => ({
          ...sessions,
          async start(user, origin) {
            if (holdNext) {
              holdNext = false;
              await held.pass();
            }
            return sessions.start(user, origin);
          },
        }),
      });
      const { username } = await signedUp(t, 'password-one');
      holdNext = true;
      const login = t.service.login(username, 'password-one', CTX);
      await held.reached; // the password was proven on the user as read
      await t.service.setSuspended(username, true);
      held.open();
      await refusedWith(login, 'account_suspended', 403);
      assert.equal(await liveSessions(t, username), 0);
    });

    it('logout-all and account deletion from a token the store has moved past write nothing (401 invalid_token)', async () => {
      const t = await open({ strategy });
      const { username, claims } = await signedUp(t, 'password-one');
      const user = (await t.store.findUserByUsername(username))!;
      const moved = await t.store.bumpCredentialVersion(user.id, user.credentialVersion);
      await refusedWith(t.service.logoutAll(claims), 'invalid_token', 401);
      await refusedWith(t.service.deleteAccount(claims, 'password-one', CTX), 'invalid_token', 401);
      assert.deepEqual(await t.store.findUserById(user.id), moved);
    });

    it("an operator's change on a user deleted between its read and its write is not_found", async () => {
      let deleteFirst = true;
      const t = await open({
        strategy,
        store: (store) =>
          aroundStoreCall(store, 'bumpCredentialVersion', async (proceed, id, expectedVersion) => {
            if (deleteFirst) {
              deleteFirst = false;
              assert.equal(await store.deleteUser(id, expectedVersion), true);
            }
            return proceed();
          }),
      });
      const { username } = await signedUp(t, 'password-one');
      await refusedWith(t.service.setSuspended(username, true), 'not_found', 404);
    });
  });
}
