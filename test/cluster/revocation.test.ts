/**
 * Revocation and throttling on a cluster: three instances A, B and C (stateless strategy) share
 * PostgreSQL and Redis. A credential event on one instance — or from the `hush` CLI, which is no
 * instance at all — takes effect on every instance: access tokens are refused within 2 s, refresh
 * tokens at once; and password guesses spread over the instances are counted together.
 *
 * Every request carries an `X-Forwarded-For` address of its own (the instances trust the loopback
 * proxy), so the rate-limit counters this suite shares through Redis with other test runs start at
 * zero and one "client address" can be named across A, B and C.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/server.js';
import {
  assertError,
  assertNoSecrets,
  assertTokenResponse,
  cookieNamed,
  SECURE_COOKIE,
  sleep,
  uniqueName,
  uniquePassword,
  type Api,
  type HttpReply,
  type Session,
} from '../integration/helpers/http.js';
import { clusterSkipReason, startCluster, uniqueAddress, type Cluster } from './helpers.js';

/** How soon every instance must refuse a revoked access token (contract, "Tokens"). */
const REVOCATION_DEADLINE_MS = 2000;

const skip = await clusterSkipReason();

describe('revocation and throttling on 3 instances A, B, C sharing PostgreSQL and Redis', { skip }, () => {
  let cluster: Cluster | undefined;
  const get = (): Cluster => {
    assert.ok(cluster, 'the cluster has not started');
    return cluster;
  };
  const A = (): Api => get().apis[0]!;
  const B = (): Api => get().apis[1]!;
  const C = (): Api => get().apis[2]!;
  const all = (): Api[] => get().apis;

  /** Headers of a client at `address` (a cookie-authenticated call also needs X-Requested-With). */
  const from = (address: string): Record<string, string> => ({ 'x-forwarded-for': address, 'x-requested-with': 'XMLHttpRequest' });

  /** A token response's session, for a client at `address`. */
  const sessionOf = (api: Api, reply: HttpReply, username: string, password: string, status: number): Session => {
    assertTokenResponse(reply, status, username);
    return api.sessionFrom(reply, username, password);
  };

  before(async () => {
    cluster = await startCluster({ size: 3, env: { HUSH_TRUST_PROXY: '127.0.0.1' } });
  });
  after(async () => {
    if (!cluster) return;
    await cluster.close();
    for (const [i, instance] of cluster.instances.entries()) assertNoSecrets(instance.output(), cluster.apis[i]!.secrets);
  });

  it('`hush user suspend` makes A, B and C refuse the user’s access tokens within 2 s', async () => {
    const address = uniqueAddress();
    const username = uniqueName('susp');
    const password = uniquePassword();
    const signedUp = sessionOf(A(), await A().signup(username, password, from(address)), username, password, 201);
    const refreshed = sessionOf(B(), await B().refresh(signedUp.cookie, from(address)), username, password, 200);
    for (const [name, api] of [['A', A()], ['B', B()], ['C', C()]] as const) {
      for (const token of [signedUp.token, refreshed.token]) assert.equal((await api.private(token)).status, 200, `${name} serves the user before the suspension`);
    }
    assert.equal((await C().private(refreshed.token)).status, 200);

    // When the suspension became visible in the database: the moment to measure from.
    let committedAt: number | undefined;
    let watching = true;
    const watcher = (async () => {
      while (watching && committedAt === undefined) {
        const { rows } = await get().db.query<{ suspended: boolean }>('select suspended from users where id = $1', [signedUp.user.id]);
        if (rows[0]?.suspended) committedAt = performance.now();
        else await sleep(5);
      }
    })();
    // When each instance first refused both tokens.
    const refusedAt: Array<number | undefined> = [undefined, undefined, undefined];
    const pollers = all().map(async (api, i) => {
      const deadline = performance.now() + 30_000;
      while (refusedAt[i] === undefined && performance.now() < deadline) {
        const replies = await Promise.all([api.private(signedUp.token), api.private(refreshed.token)]);
        if (replies.every((r) => r.status === 401)) refusedAt[i] = performance.now();
        else await sleep(10);
      }
    });

    const cli = await runCli(['user', 'suspend', username], { env: get().env });
    const cliExitedAt = performance.now();
    assert.equal(cli.code, 0, `hush user suspend failed: ${cli.stderr}`);
    await Promise.all(pollers);
    watching = false;
    await watcher;

    assert.ok(committedAt !== undefined, 'the suspension reached the database');
    assert.ok(refusedAt.every((t) => t !== undefined), `every instance refused the tokens (A, B, C: ${refusedAt.join(', ')})`);
    const times = refusedAt as number[];
    const delay = Math.max(...times) - committedAt;
    const perInstance = times.map((t) => Math.round(t - committedAt!)).join(' / ');
    console.log(
      `suspension → refused everywhere: ${Math.round(delay)} ms after the commit (A / B / C: ${perInstance} ms; the CLI process exited ${Math.round(cliExitedAt - committedAt)} ms after the commit)`,
    );
    assert.ok(delay < REVOCATION_DEADLINE_MS, `all three refused within ${Math.round(delay)} ms, not under ${REVOCATION_DEADLINE_MS} ms`);

    for (const api of all()) {
      for (const token of [signedUp.token, refreshed.token]) assertError(await api.private(token), 401, 'invalid_token');
      const refresh = await api.refresh(refreshed.cookie, from(address));
      assert.ok(refresh.status === 401 || refresh.status === 403, `a suspended user's refresh is refused (got ${refresh.status})`);
    }
    assertError(await C().login(username, password, from(address)), 403, 'account_suspended');
  });

  it('a password change on B ends refresh for the other session on A and C, while the token B returned works everywhere', async () => {
    const address = uniqueAddress();
    const username = uniqueName('pwchg');
    const password = uniquePassword();
    const newPassword = uniquePassword();
    const first = sessionOf(A(), await A().signup(username, password, from(address)), username, password, 201);
    const other = sessionOf(C(), await C().login(username, password, from(address)), username, password, 200);
    for (const api of [A(), C()]) assert.equal((await api.refresh(other.cookie, from(address))).status, 200, 'the other session refreshes before the change');

    const changed = await B().changePassword(first.token, password, newPassword, from(address));
    const returned = sessionOf(B(), changed, username, newPassword, 200);

    for (const [name, api] of [['A', A()], ['C', C()]] as const) {
      const reply = await api.refresh(other.cookie, from(address));
      assertError(reply, 401, 'invalid_refresh_token');
      assert.equal(cookieNamed(reply, SECURE_COOKIE).value, '', `${name} clears the other session's cookie`);
    }
    // Past the deadline, every instance has applied the revocation; the returned token is above it.
    await sleep(REVOCATION_DEADLINE_MS + 200);
    for (const [name, api] of [['A', A()], ['B', B()], ['C', C()]] as const) {
      assertError(await api.private(other.token), 401, 'invalid_token');
      assertError(await api.private(first.token), 401, 'invalid_token');
      assert.equal((await api.private(returned.token)).status, 200, `${name} accepts the access token the password change returned`);
    }
    for (const api of [A(), C()]) assertTokenResponse(await api.refresh(returned.cookie, from(address)), 200, username);
  });

  it('login failures for one username from one address, spread over A, B and C, are throttled together: the 11th is 429', async () => {
    const address = uniqueAddress();
    const username = uniqueName('thr');
    const password = uniquePassword();
    sessionOf(A(), await A().signup(username, password, from(address)), username, password, 201);
    for (let i = 0; i < 10; i++) {
      assertError(await all()[i % 3]!.login(username, `wrong ${i} ${password}`, from(address)), 401, 'invalid_credentials');
    }
    // Failures 1–10 went A, B, C, A, …, so each instance saw at most 4: only shared counts refuse now.
    for (const [name, api] of [['B', B()], ['C', C()], ['A', A()]] as const) {
      const reply = await api.login(username, `wrong again ${password}`, from(address));
      assertError(reply, 429, 'rate_limited');
      assert.ok(Number(reply.headers.get('retry-after')) > 0, `${name}: 429 carries Retry-After`);
    }
    const correct = await C().login(username, password, from(address));
    assertError(correct, 429, 'rate_limited');
    // Other addresses are unaffected.
    sessionOf(B(), await B().login(username, password, from(uniqueAddress())), username, password, 200);
  });
});
