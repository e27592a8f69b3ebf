/**
 * Faults on a cluster. An instance killed outright (SIGKILL, mid-request) loses nothing: every
 * refresh is one compare-and-swap in the shared database, and a response lost with the instance
 * is recovered by showing the same token to another one, which yields the same successor. And a
 * database outage degrades to 503 `unavailable` — never a 500, never a crash — on the routes that
 * need the database, while routes answered from the token alone go on, and the instance recovers
 * by itself when the database returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/server.js';
import {
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
} from '../integration/helpers/http.js';
import { clusterSkipReason, sessionRow, startCluster, type Cluster } from './helpers.js';
import { TcpProxy } from './tcp-proxy.js';

const LOAD_MS = 3000;
const KILL_AFTER_MS = 1200;
const CLIENTS = 8;

/** One browser refreshing in a loop, round-robin over the instances, as behind a load balancer. */
interface Client {
  readonly sid: string;
  /** The refresh cookie it holds: the last one a 200 gave it. */
  cookie: string;
  /** New cookies it adopted: the rotations it has seen. */
  rotations: number;
  refreshesAfterKill: number;
  /** Requests that got no response (connection refused or reset): retried on the next instance. */
  networkErrors: number;
  /** Anything but a 200 or a network error: a client signed out or a server error. */
  readonly failures: string[];
}

const describeReply = (reply: HttpReply): string => `${reply.status} ${reply.text.slice(0, 120)}`;

/** The database URL rewritten to go through `proxy`. */
const through =
  (proxy: TcpProxy) =>
  (real: string): string => {
    const url = new URL(real);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return url.toString();
  };

/** `reply`, or `undefined` when it takes longer than `ms` (a late rejection is then ignored). */
async function within(ms: number, reply: Promise<HttpReply>): Promise<HttpReply | undefined> {
  reply.catch(() => undefined);
  let timeUp: (value: undefined) => void = () => undefined;
  const late = new Promise<undefined>((resolve) => {
    timeUp = resolve;
  });
  const timer = setTimeout(() => timeUp(undefined), ms);
  try {
    return await Promise.race([reply, late]);
  } finally {
    clearTimeout(timer);
  }
}

const skipKill = await clusterSkipReason();

describe('kill -9 of one of 3 rotating instances during a refresh load', { skip: skipKill }, () => {
  let cluster: Cluster | undefined;
  const get = (): Cluster => {
    assert.ok(cluster, 'the cluster has not started');
    return cluster;
  };
  const clients: Client[] = [];
  let killedAt = 0;

  before(async () => {
    cluster = await startCluster({ size: 3, env: { HUSH_REFRESH_STRATEGY: 'rotating', HUSH_RATE_LIMIT: 'off' } });
    for (let i = 0; i < CLIENTS; i++) {
      const session = await cluster.apis[i % 3]!.session(uniqueName('kill'), uniquePassword());
      const sid = decodeJwt(session.token).payload['sid'] as string;
      clients.push({ sid, cookie: session.cookie, rotations: 0, refreshesAfterKill: 0, networkErrors: 0, failures: [] });
    }

    const victim = cluster.instances[2]!;
    const start = Date.now();
    const killer = (async () => {
      await sleep(KILL_AFTER_MS);
      killedAt = Date.now();
      victim.process.kill('SIGKILL');
    })();
    const apis = cluster.apis;
    await Promise.all(
      clients.map(async (client, c) => {
        let turn = c;
        // Each loop ends only on a 200, so what the client holds is what the database last gave it.
        for (let done = false; !done; ) {
          const api = apis[turn++ % apis.length]!;
          let reply: HttpReply;
          try {
            reply = await api.refresh(client.cookie);
          } catch {
            client.networkErrors++;
            continue;
          }
          if (reply.status !== 200) {
            client.failures.push(describeReply(reply));
            return;
          }
          const cookie = cookieNamed(reply, SECURE_COOKIE).value;
          if (cookie !== client.cookie) client.rotations++;
          client.cookie = cookie;
          if (killedAt > 0) client.refreshesAfterKill++;
          done = Date.now() - start >= LOAD_MS;
        }
      }),
    );
    await killer;
    const total = clients.reduce((n, c) => n + c.rotations, 0);
    const lost = clients.reduce((n, c) => n + c.networkErrors, 0);
    console.log(`kill -9 under load: ${CLIENTS} clients, ${total} rotations, ${lost} requests without a response (retried elsewhere)`);
  });
  after(async () => {
    if (!cluster) return;
    await cluster.close();
    for (const [i, instance] of cluster.instances.entries()) assertNoSecrets(instance.output(), cluster.apis[i]!.secrets);
  });

  it('the killed instance is gone, the others still serve', () => {
    const [a, b, victim] = get().instances;
    assert.equal(victim!.process.signalCode, 'SIGKILL');
    for (const survivor of [a!, b!]) assert.equal(survivor.process.exitCode, null, 'a survivor is still running');
  });

  it('no client was signed out or saw a server error, and every client carried on through the others', () => {
    for (const [i, client] of clients.entries()) {
      assert.deepEqual(client.failures, [], `client ${i} failed`);
      assert.ok(client.refreshesAfterKill > 0, `client ${i} refreshed after the kill`);
    }
    assert.ok(clients.some((c) => c.networkErrors > 0), 'some requests met the killed instance (and were retried elsewhere)');
  });

  it("every session row is live and its counter equals the rotations its client saw", async () => {
    for (const [i, client] of clients.entries()) {
      assert.deepEqual(await sessionRow(get().db, client.sid), { counter: client.rotations, revoked: false }, `client ${i}`);
    }
  });

  it("each client's last cookie still refreshes, to one successor, on both surviving instances", async () => {
    const [a, b] = get().apis as [Api, Api];
    for (const [i, client] of clients.entries()) {
      const first = await a.refresh(client.cookie);
      assertTokenResponse(first, 200);
      const again = await b.refresh(client.cookie);
      assertTokenResponse(again, 200);
      assert.equal(cookieNamed(again, SECURE_COOKIE).value, cookieNamed(first, SECURE_COOKIE).value, `client ${i}: the same successor`);
      assert.deepEqual(await sessionRow(get().db, client.sid), { counter: client.rotations + 1, revoked: false }, `client ${i}`);
    }
  });
});

const skipOutage = await clusterSkipReason({ redis: false });

describe('a database outage (PostgreSQL behind a proxy the test cuts)', { skip: skipOutage }, () => {
  const proxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
  let cluster: Cluster | undefined;
  const get = (): Cluster => {
    assert.ok(cluster, 'the cluster has not started');
    return cluster;
  };
  const api = (): Api => get().apis[0]!;
  const username = uniqueName('outage');
  const password = uniquePassword();
  let token = '';
  let cookie = '';
  /** A second user, suspended while the instance cannot reach the database. */
  let suspended = { username: '', token: '' };
  let returnedAt = 0;

  before(async () => {
    await proxy.start();
    cluster = await startCluster({
      size: 1,
      redis: false,
      env: { HUSH_REFRESH_STRATEGY: 'rotating' },
      databaseUrlFor: through(proxy),
    });
    const session = await api().session(username, password);
    token = session.token;
    cookie = session.cookie;
    const other = await api().session(uniqueName('outage-susp'), uniquePassword());
    suspended = { username: other.username, token: other.token };
    assert.equal((await api().send('GET', '/readyz')).status, 200);
  });
  after(async () => {
    // The database must be reachable again to be dropped; then the proxy goes, or it would keep this process alive.
    await proxy.start();
    await cluster?.close();
    await proxy.stop();
    if (cluster) assertNoSecrets(cluster.instances[0]!.output(), cluster.apis[0]!.secrets);
  });

  /** Asserts the contract's 503: `unavailable`, with Retry-After. */
  const assertUnavailable = (reply: HttpReply, what: string): void => {
    assert.notEqual(reply.status, 500, `${what}: a 500 during the outage: ${reply.text.slice(0, 200)}`);
    assertError(reply, 503, 'unavailable');
    assert.ok(Number(reply.headers.get('retry-after')) > 0, `${what}: 503 carries Retry-After`);
  };

  it('while the database is down: 503 unavailable with Retry-After where it is needed, never a 500, and no crash', async () => {
    await proxy.stop();
    // Twice: right after the cut (connections break mid-pool) and once the pool has nothing left.
    for (let pass = 0; pass < 2; pass++) {
      assertUnavailable(await api().login(username, password), 'login');
      assertUnavailable(await api().signup(uniqueName('outage-new'), uniquePassword()), 'signup');
      const refresh = await api().refresh(cookie);
      assertUnavailable(refresh, 'refresh');
      assert.equal(refresh.cookies.length, 0, 'a refresh that could not be checked leaves the cookie alone');
      const ready = await api().send('GET', '/readyz');
      assert.equal(ready.status, 503, `readyz: ${describeReply(ready)}`);
      assert.deepEqual(ready.body, { status: 'unavailable' });
      await sleep(1500);
    }
    assert.equal(get().instances[0]!.process.exitCode, null, 'the instance is still running');
  });

  it('while the database is down: /healthz answers 200 and /api/private with a valid token works', async () => {
    const health = await api().send('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const reply = await api().private(token);
    assert.equal(reply.status, 200, `/api/private: ${describeReply(reply)}`);
  });

  it('meanwhile, a suspension reaches the database by another way (the CLI, directly)', async () => {
    const cli = await runCli(['user', 'suspend', suspended.username], { env: { ...get().env, DATABASE_URL: get().databaseUrl } });
    assert.equal(cli.code, 0, `hush user suspend failed: ${cli.stderr}`);
  });

  it('when the database returns, the instance recovers without a restart: login, refresh and /readyz work within a few seconds', async () => {
    await proxy.start();
    returnedAt = Date.now();
    const took = await eventually(async () => (await api().login(username, password)).status === 200, 5000, 'login works again', 200);
    console.log(`database outage: login worked again ${took} ms after the database returned`);
    assert.equal((await api().send('GET', '/readyz')).status, 200);
    assertTokenResponse(await api().refresh(cookie), 200, username);
    assert.equal(get().instances[0]!.process.exitCode, null, 'the same process, never restarted');
  });

  it('when the database returns, the revocation feed catches up: a suspension made during the outage applies within 2 s of the return', async () => {
    const within = Math.max(0, returnedAt + 2000 - Date.now());
    await eventually(async () => (await api().private(suspended.token)).status === 401, within, 'the suspended user is refused', 50);
    console.log(`database outage: the suspension made during it applied ${Date.now() - returnedAt} ms after the database returned`);
    assertError(await api().private(suspended.token), 401, 'invalid_token');
  });
});

describe('a silent database (packets dropped: nothing refused, nothing answered)', { skip: skipOutage }, () => {
  const proxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
  let cluster: Cluster | undefined;
  const get = (): Cluster => {
    assert.ok(cluster, 'the cluster has not started');
    return cluster;
  };
  const api = (): Api => get().apis[0]!;
  let session = { username: '', password: '', token: '', cookie: '' };
  let victim = { username: '', token: '' };

  before(async () => {
    await proxy.start();
    cluster = await startCluster({ size: 1, redis: false, env: { HUSH_REFRESH_STRATEGY: 'rotating' }, databaseUrlFor: through(proxy) });
    session = await api().session(uniqueName('silent'), uniquePassword());
    const other = await api().session(uniqueName('silent-v'), uniquePassword());
    victim = { username: other.username, token: other.token };
  });
  after(async () => {
    await cluster?.close();
    await proxy.stop();
  });

  it('requests that need the database answer 503 unavailable within 10 s: none hangs', async () => {
    // Open connections sit idle in the pool, as on any busy instance: the silence must not trap requests on them.
    await Promise.all(Array.from({ length: 6 }, () => api().send('GET', '/readyz')));
    proxy.freeze();
    // Long enough for the revocation feed to send a poll into the silence.
    await sleep(1500);
    const t0 = Date.now();
    const timed = async (reply: Promise<HttpReply | undefined>): Promise<HttpReply | undefined> => {
      const r = await reply;
      console.log(`silent database: ${r ? r.status : 'no answer'} after ${Date.now() - t0} ms`);
      return r;
    };
    const [login, refresh, ready] = await Promise.all([
      timed(within(10_000, api().login(session.username, session.password))),
      timed(within(10_000, api().refresh(session.cookie))),
      timed(within(10_000, api().send('GET', '/readyz'))),
    ]);
    assert.ok(ready, '/readyz answered');
    assert.equal(ready.status, 503);
    for (const [what, reply] of [['login', login], ['refresh', refresh]] as const) {
      assert.ok(reply, `${what} answered within 10 s`);
      assertError(reply, 503, 'unavailable');
    }
  });

  it('meanwhile /healthz and /api/private answer at once', async () => {
    const health = await within(1000, api().send('GET', '/healthz'));
    assert.equal(health?.status, 200);
    const reply = await within(1000, api().private(session.token));
    assert.equal(reply?.status, 200);
  });

  it('once the database answers again, a suspension made then applies within 2 s', async () => {
    proxy.thaw();
    const cli = await runCli(['user', 'suspend', victim.username], { env: { ...get().env, DATABASE_URL: get().databaseUrl } });
    assert.equal(cli.code, 0, `hush user suspend failed: ${cli.stderr}`);
    await eventually(async () => (await api().private(victim.token)).status === 401, 2000, 'the suspended user is refused', 50);
  });
});
