/**
 * Rotating refresh tokens on a cluster: three instances share one PostgreSQL database (and Redis),
 * and the contract's rotation rules hold across them — a refresh is a compare-and-swap, so however
 * many instances a token reaches at once it rotates exactly once and everyone gets the same
 * successor; a replaced token shown after the reuse grace revokes the whole session everywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertCookieCleared,
  assertError,
  assertNoSecrets,
  assertTokenResponse,
  cookieNamed,
  decodeJwt,
  eventually,
  SECURE_COOKIE,
  sleep,
  uniqueName,
  uniquePassword,
  type Api,
  type HttpReply,
  type Session,
} from '../integration/helpers/http.js';
import { clusterSkipReason, sessionRow, startCluster, type Cluster } from './helpers.js';

const GRACE_MS = 2000;
/** How soon every instance must refuse a revoked access token (contract, "Tokens"). */
const REVOCATION_DEADLINE_MS = 2000;

/** The refresh cookie a token response set. */
function successorOf(reply: HttpReply): string {
  assertTokenResponse(reply, 200);
  return cookieNamed(reply, SECURE_COOKIE).value;
}

/** The `sid` claim of an access token: the session row's id. */
function sidOf(token: string): string {
  const sid = decodeJwt(token).payload['sid'];
  assert.equal(typeof sid, 'string', 'the access token carries a sid');
  return sid as string;
}

const skip = await clusterSkipReason();

describe('rotating refresh on 3 instances sharing PostgreSQL and Redis', { skip }, () => {
  let cluster: Cluster | undefined;
  const instances = (): Cluster => {
    assert.ok(cluster, 'the cluster has not started');
    return cluster;
  };
  /** The api of instance `i`, round-robin. */
  const on = (i: number): Api => instances().apis[i % instances().apis.length]!;

  before(async () => {
    cluster = await startCluster({
      size: 3,
      env: { HUSH_REFRESH_STRATEGY: 'rotating', HUSH_REUSE_GRACE: `${GRACE_MS / 1000}s`, HUSH_RATE_LIMIT: 'off' },
    });
  });
  after(async () => {
    if (!cluster) return;
    await cluster.close();
    for (const [i, instance] of cluster.instances.entries()) assertNoSecrets(instance.output(), cluster.apis[i]!.secrets);
  });

  describe('one token refreshed 50 times at once, spread over the 3 instances', () => {
    let session: Session;
    let sid: string;
    let successor: string;
    let successorAccess: string;
    let next: string;

    before(async () => {
      session = await on(0).session(uniqueName('rot50'), uniquePassword());
      sid = sidOf(session.token);
    });

    it('every one of the 50 answers 200 with the same successor cookie', async () => {
      assert.equal((await sessionRow(instances().db, sid)).counter, 0, 'a new session starts at counter 0');
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => on(i).refresh(session.cookie)));
      const cookies = replies.map(successorOf);
      assert.equal(new Set(cookies).size, 1, `expected one successor, got ${new Set(cookies).size} different cookies`);
      successor = cookies[0]!;
      assert.notEqual(successor, session.cookie, 'the successor is a new token');
      successorAccess = (replies[0]!.body as { access_token: string }).access_token;
    });

    it("advances the session's counter by exactly one", async () => {
      assert.deepEqual(await sessionRow(instances().db, sid), { counter: 1, revoked: false });
    });

    it('shown again while its successor is unused, the replaced token yields that same successor on any instance', async () => {
      for (let i = 0; i < 3; i++) assert.equal(successorOf(await on(i).refresh(session.cookie)), successor, `instance ${i}`);
      assert.equal((await sessionRow(instances().db, sid)).counter, 1);
    });

    it('once the successor has been used, the replaced token still yields it within the grace', async () => {
      next = successorOf(await on(1).refresh(successor));
      assert.notEqual(next, successor);
      assert.equal((await sessionRow(instances().db, sid)).counter, 2);
      assert.equal(successorOf(await on(2).refresh(session.cookie)), successor, 'inside the grace the old token still yields its successor');
      assert.equal((await sessionRow(instances().db, sid)).counter, 2, 'yielding a known successor rotates nothing');
    });

    it('after the grace, the replaced token answers 401 invalid_refresh_token and clears the cookie', async () => {
      await sleep(GRACE_MS + 500);
      const reply = await on(0).refresh(session.cookie);
      assertError(reply, 401, 'invalid_refresh_token');
      assertCookieCleared(reply, SECURE_COOKIE);
    });

    it('revokes the session: its latest token stops working on every instance', async () => {
      assert.equal((await sessionRow(instances().db, sid)).revoked, true, 'the session row is revoked');
      for (let i = 0; i < 3; i++) {
        assertError(await on(i).refresh(next), 401, 'invalid_refresh_token');
        assertError(await on(i).refresh(successor), 401, 'invalid_refresh_token');
      }
    });

    it("ends the session's access tokens on every instance within 2 s", async () => {
      for (const token of [session.token, successorAccess]) {
        for (let i = 0; i < 3; i++) {
          await eventually(async () => (await on(i).private(token)).status === 401, REVOCATION_DEADLINE_MS, `instance ${i} refuses the revoked session's access token`);
          assertError(await on(i).private(token), 401, 'invalid_token');
        }
      }
    });

    it('logs the reuse (without the token)', () => {
      const logs = instances().instances.map((instance) => instance.output()).join('\n');
      assert.match(logs, /refresh_reuse/, 'some instance logged the reuse detection');
    });
  });

  describe('four tabs refreshing the same token at the same moment', () => {
    it('are all signed in, with the same successor, and keep refreshing together', async () => {
      const start = await on(0).session(uniqueName('tabs'), uniquePassword());
      const sid = sidOf(start.token);
      let cookie = start.cookie;
      for (let round = 1; round <= 3; round++) {
        const replies = await Promise.all([0, 1, 2, 3].map((tab) => on(tab + round).refresh(cookie)));
        const cookies = replies.map(successorOf);
        assert.equal(new Set(cookies).size, 1, `round ${round}: every tab holds the same successor`);
        for (const [tab, reply] of replies.entries()) {
          const token = (reply.body as { access_token: string }).access_token;
          const me = await on(tab).private(token);
          assert.equal(me.status, 200, `round ${round}: tab ${tab} is signed in`);
        }
        cookie = cookies[0]!;
        assert.deepEqual(await sessionRow(instances().db, sid), { counter: round, revoked: false }, `round ${round}: one rotation`);
      }
    });
  });
});
