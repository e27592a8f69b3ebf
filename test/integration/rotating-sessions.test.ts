/**
 * The rotating strategy's session API over real HTTP (HUSH_REFRESH_STRATEGY=rotating): ending one
 * session — `DELETE /auth/sessions/{id}` or `POST /auth/logout` — ends its refresh at once and its
 * access tokens within 2 s (the contract's Tokens section), while the user's other session goes on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError, assertTokenResponse, decodeJwt, eventually, uniqueName, uniquePassword, type Api, type Session } from './helpers/http.js';
import { BASE_ENV, databases, sharedServer } from './helpers/suite.js';

/** How soon every instance must refuse a revoked access token. */
const REVOCATION_DEADLINE_MS = 2000;

const sidOf = (session: Session): string => {
  const sid = decodeJwt(session.token).payload['sid'];
  assert.equal(typeof sid, 'string');
  return sid as string;
};

/** Two sessions of one new user. */
async function twoSessions(api: Api): Promise<[Session, Session]> {
  const username = uniqueName('rot');
  const password = uniquePassword();
  const kept = await api.session(username, password);
  const ended = await api.session(username, password, 'login');
  assert.notEqual(sidOf(kept), sidOf(ended));
  return [kept, ended];
}

/** The ended session: its access token refused within the deadline (on every Bearer route), its refresh at once. */
async function assertEnded(api: Api, session: Session, endedAt: number): Promise<void> {
  const left = REVOCATION_DEADLINE_MS - (Date.now() - endedAt);
  await eventually(async () => (await api.private(session.token)).status === 401, Math.max(left, 0), "refusing the ended session's access token");
  assertError(await api.private(session.token), 401, 'invalid_token');
  assertError(await api.me(session.token), 401, 'invalid_token');
  assertError(await api.refresh(session.cookie), 401, 'invalid_refresh_token');
}

/** The other session goes on: its token works, it refreshes, and it is the only one listed. */
async function assertGoesOn(api: Api, session: Session): Promise<void> {
  assert.equal((await api.private(session.token)).status, 200);
  const list = await api.send('GET', '/auth/sessions', { token: session.token });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(
    (list.body as { sessions: { id: string; current: boolean }[] }).sessions.map((s) => [s.id, s.current]),
    [[sidOf(session), true]],
  );
  assertTokenResponse(await api.refresh(session.cookie), 200, session.username);
}

for (const { database, skip } of await databases()) {
  describe(`rotating sessions over HTTP (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_REFRESH_STRATEGY: 'rotating' });

    it("DELETE /auth/sessions/{id} ends that session's access tokens within 2 s and its refresh at once; the other goes on", async () => {
      const [kept, ended] = await twoSessions(shared.api);
      const reply = await shared.api.send('DELETE', `/auth/sessions/${sidOf(ended)}`, { token: kept.token });
      assert.equal(reply.status, 204, reply.text);
      await assertEnded(shared.api, ended, Date.now());
      await assertGoesOn(shared.api, kept);
    });

    it("POST /auth/logout ends that session's access tokens within 2 s and its refresh at once; the other goes on", async () => {
      const [kept, ended] = await twoSessions(shared.api);
      const reply = await shared.api.logout(ended.cookie);
      assert.equal(reply.status, 204, reply.text);
      await assertEnded(shared.api, ended, Date.now());
      await assertGoesOn(shared.api, kept);
    });

    it("DELETE /auth/sessions/{id} of another user's session is 404 not_found and ends nothing", async () => {
      const [mine] = await twoSessions(shared.api);
      const [theirs] = await twoSessions(shared.api);
      assertError(await shared.api.send('DELETE', `/auth/sessions/${sidOf(theirs)}`, { token: mine.token }), 404, 'not_found');
      assert.equal((await shared.api.private(theirs.token)).status, 200);
      assertTokenResponse(await shared.api.refresh(theirs.cookie), 200, theirs.username);
    });
  });
}
