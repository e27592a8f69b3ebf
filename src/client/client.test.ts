import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { AuthError, createAuthClient } from './index.js';
import type { AuthClient, AuthEvent } from './index.js';
import { APP, hang, installEnv, json, settle } from './test-env.js';
import type { Env } from './test-env.js';

const API = 'https://api.test';
const THIRD = 'https://cdn.third.test';

/** A page whose previous visit left a session: hint present, refresh cookie valid. */
async function signedInPage(t: TestContext, options: { locks?: boolean } = {}): Promise<{ env: Env; auth: AuthClient; events: AuthEvent[] }> {
  const env = installEnv(t, { hint: true, ...options });
  env.server.session = true;
  const auth = createAuthClient({ apiOrigins: [API] });
  const events: AuthEvent[] = [];
  auth.onChange((e) => events.push(e));
  await auth.ready;
  assert.equal(auth.state, 'authenticated');
  return { env, auth, events };
}

/**
 * Awaits `promise`, failing fast (instead of at the file's timeout) when it has not settled after `ms` of
 * fake time: a retry loop shows as a clear failure with the request count, not as a hang.
 */
async function settlesWithin<T>(env: Env, promise: Promise<T>, ms: number, what: string): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await env.clock.advance(ms);
  assert.ok(settled, `${what} did not settle within ${ms} ms of fake time (${env.server.requests.length} requests so far)`);
  return promise;
}

/** Every value the page ever stored, for "the token is never persisted" checks. */
function assertNoTokenStored(env: Env): void {
  for (const write of [...env.storage.writes, ...env.session.writes]) assert.equal(write, 'hush:session=1');
  assert.deepEqual([...env.session.map.keys()], []);
}

describe('start-up', () => {
  it('skips the refresh and settles anonymous when the own-origin hint is absent', async (t) => {
    const env = installEnv(t);
    const auth = createAuthClient();
    await auth.ready;
    assert.equal(auth.state, 'anonymous');
    assert.equal(auth.user, null);
    assert.equal(env.server.requests.length, 0);
    assert.equal(await auth.getAccessToken(), null);
    assert.equal(env.server.requests.length, 0);
  });

  it('restores the session with one refresh carrying X-Requested-With and credentials, and emits signed_in', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    const auth = createAuthClient();
    assert.equal(auth.state, 'loading');
    const seen: string[] = [];
    auth.onChange((e) => seen.push(`${e.type}:${auth.state}:${auth.user?.username}`));
    await auth.ready;
    assert.equal(auth.state, 'authenticated');
    assert.deepEqual(auth.user, { id: 'u-1', username: 'ada' });
    assert.deepEqual(seen, ['signed_in:authenticated:ada'], 'the event arrives after state is committed');
    assert.deepEqual(env.server.requests.map((r) => r.route), ['POST /auth/refresh']);
    const refresh = env.server.requests[0]!;
    assert.equal(refresh.url, `${APP}/auth/refresh`);
    assert.ok(refresh.headers.get('x-requested-with'));
    assert.equal(refresh.credentials, 'include');
    assertNoTokenStored(env);
  });

  it('settles anonymous and clears the hint when the refresh cookie is refused', async (t) => {
    const env = installEnv(t, { hint: true });
    const auth = createAuthClient();
    await auth.ready;
    assert.equal(auth.state, 'anonymous');
    assert.equal(env.storage.getItem('hush:session'), null);
  });

  it('settles ready within 15 s when the refresh hangs, staying loading', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.routes.set('POST /auth/refresh', hang);
    const auth = createAuthClient();
    let settled = false;
    void auth.ready.then(() => (settled = true));
    await env.clock.advance(14_999);
    assert.equal(settled, false);
    await env.clock.advance(1);
    assert.equal(settled, true);
    assert.equal(auth.state, 'loading');
  });

  it('settles ready on a network error, stays loading, and a backoff retry later signs in', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    env.server.routes.set('POST /auth/refresh', () => Promise.reject(new TypeError('Failed to fetch')));
    const auth = createAuthClient();
    const events: AuthEvent[] = [];
    auth.onChange((e) => events.push(e));
    await auth.ready;
    assert.equal(auth.state, 'loading');
    assert.equal(events[0]?.type, 'refresh_failed');
    assert.equal(events[0]?.error?.code, 'network_error');
    env.server.routes.delete('POST /auth/refresh');
    await env.clock.advance(200); // first retry: full jitter within 200 ms
    assert.equal(auth.state, 'authenticated');
    assert.equal(events.at(-1)?.type, 'signed_in');
  });
});

describe('memory-only token', () => {
  it('never writes the token to localStorage or sessionStorage, only a constant hint', async (t) => {
    const env = installEnv(t);
    const auth = createAuthClient();
    await auth.login('ada', 'correct horse');
    const token = await auth.getAccessToken();
    assert.ok(token);
    assert.equal(env.storage.getItem('hush:session'), '1');
    assertNoTokenStored(env);
    await auth.logout();
    assert.equal(env.storage.getItem('hush:session'), null);
  });
});

describe('proactive refresh', () => {
  it('refreshes max(60 s, 15%) ahead of a 10-minute token, with under 10% jitter', async (t) => {
    const { env } = await signedInPage(t);
    await env.clock.advance(600_000 - 90_000 - 1);
    assert.equal(env.server.count('POST /auth/refresh'), 1);
    await env.clock.advance(9_001);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
  });

  it('refreshes at most half the lifetime ahead of a short token', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    env.server.ttl = 5;
    const auth = createAuthClient();
    await auth.ready;
    await env.clock.advance(2_499);
    assert.equal(env.server.count('POST /auth/refresh'), 1);
    await env.clock.advance(251);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    // and keeps doing so: 10 more lifetimes, about two refreshes each, never an expired token in between
    for (let i = 0; i < 20; i++) {
      await env.clock.advance(500);
      assert.ok(env.server.valid(await auth.getAccessToken() ?? undefined));
    }
    const count = env.server.count('POST /auth/refresh');
    assert.ok(count >= 5 && count <= 6, `${count} refreshes`);
  });

  it('reckons expiry from receipt time + expires_in, not the device clock against exp', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    env.clock.now += 3_600_000; // the device clock runs an hour fast: every exp looks past
    env.server.issue = ((issue) => (user, lifetime) => {
      env.clock.now -= 3_600_000;
      try {
        return issue(user, lifetime);
      } finally {
        env.clock.now += 3_600_000;
      }
    })(env.server.issue.bind(env.server));
    const auth = createAuthClient();
    await auth.ready;
    await env.clock.advance(60_000);
    assert.equal(env.server.count('POST /auth/refresh'), 1, 'no refresh loop');
    assert.ok(await auth.getAccessToken());
    assert.equal(env.server.count('POST /auth/refresh'), 1);
  });

  it('rechecks the wall clock when the page wakes up (timers missed during sleep)', async (t) => {
    for (const type of ['visibilitychange', 'pageshow', 'online', 'focus']) {
      await t.test(type, async (t) => {
        const { env } = await signedInPage(t);
        env.clock.jump(595_000); // asleep: no timer fired
        await env.fire(type);
        assert.equal(env.server.count('POST /auth/refresh'), 2);
      });
    }
  });

  it('refreshes on use when the timer slept through the due time', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.clock.jump(700_000);
    const token = await auth.getAccessToken();
    assert.ok(env.server.valid(token ?? undefined));
    assert.equal(env.server.count('POST /auth/refresh'), 2);
  });
});

describe('one refresh in flight', () => {
  it('100 concurrent fetches with an expired token make exactly one refresh, and all succeed', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.clock.jump(601_000);
    const responses = await Promise.all(Array.from({ length: 100 }, () => auth.fetch('/api/private')));
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
    assert.equal(env.server.count('GET /api/private'), 100);
  });

  it('100 concurrent fetches whose token the server rejected share one refresh and retry once each', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.revoke((await auth.getAccessToken())!);
    const responses = await Promise.all(Array.from({ length: 100 }, () => auth.fetch('/api/private')));
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    assert.equal(env.server.count('GET /api/private'), 200);
  });
});

describe('401 handling', () => {
  it('refreshes once and retries once on 401 invalid_token, replaying the body', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.revoke((await auth.getAccessToken())!);
    const res = await auth.fetch('/api/things', { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    const posts = env.server.requests.filter((r) => r.route === 'POST /api/things');
    assert.equal(posts.length, 2);
    assert.deepEqual(posts.map((p) => p.body), ['{"a":1}', '{"a":1}']);
    assert.notEqual(posts[0]!.headers.get('authorization'), posts[1]!.headers.get('authorization'));
  });

  it('never retries more than once, and the call settles at once', async (t) => {
    const { env, auth } = await signedInPage(t);
    // A client that looped would keep asking: the third request hangs, so the loop stops and the
    // bound below reports it, instead of spinning until the file times out.
    env.server.routes.set('GET /api/private', (req) =>
      env.server.count('GET /api/private') > 2 ? hang(req, '') : json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }),
    );
    const res = await settlesWithin(env, auth.fetch('/api/private'), 1000, 'a fetch answered 401 invalid_token every time');
    assert.equal(res.status, 401);
    assert.equal(env.server.count('GET /api/private'), 2);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    assert.equal(auth.state, 'authenticated');
  });

  it('recognises invalid_token from the body when the header is not exposed', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.revoke((await auth.getAccessToken())!);
    env.server.routes.set('GET /api/plain', (req) =>
      env.server.valid(env.server.bearer(req)) ? json(200, {}) : json(401, { error: 'invalid_token' }),
    );
    assert.equal((await auth.fetch('/api/plain')).status, 200);
  });

  it('does not refresh for a 401 that is not invalid_token', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.routes.set('GET /api/private', () => json(401, { error: 'invalid_credentials' }));
    assert.equal((await auth.fetch('/api/private')).status, 401);
    assert.equal(env.server.count('GET /api/private'), 1);
    assert.equal(env.server.count('POST /auth/refresh'), 1);
  });

  it('never retries /auth/* calls', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.revoke((await auth.getAccessToken())!);
    const res = await auth.fetch('/auth/me');
    assert.equal(res.status, 401);
    assert.equal(env.server.count('GET /auth/me'), 1);
    assert.equal(env.server.count('POST /auth/refresh'), 1);
  });

  it('retries without refreshing when the rejected token was already replaced (generation check)', async (t) => {
    const { env, auth } = await signedInPage(t);
    const old = (await auth.getAccessToken())!;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    env.server.routes.set('GET /api/slow', async (req) => {
      const sent = env.server.bearer(req);
      if (sent === old) {
        await gate;
        return json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      return json(200, {});
    });
    const pending = auth.fetch('/api/slow');
    await settle();
    env.clock.jump(600_000); // meanwhile the token expired and was replaced
    assert.notEqual(await auth.getAccessToken(), old);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    release();
    assert.equal((await pending).status, 200);
    assert.equal(env.server.count('POST /auth/refresh'), 2, 'no refresh for an already-replaced token');
  });

  it('a 401 that lands during a refresh waits for it and retries with the new token', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.revoke((await auth.getAccessToken())!);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    env.server.routes.set('POST /auth/refresh', async () => {
      await gate;
      return env.server.tokenResponse();
    });
    env.clock.jump(595_000);
    await env.fire('focus'); // a refresh is now in flight
    const res = auth.fetch('/api/private');
    await settle();
    release();
    assert.equal((await res).status, 200);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
  });

  it('does not retry a streamed body', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.revoke((await auth.getAccessToken())!);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('chunk'));
        controller.close();
      },
    });
    const res = await auth.fetch('/api/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 401);
    assert.equal(env.server.count('POST /api/upload'), 1);
  });
});

describe('where the token goes', () => {
  it('sends it to the auth server origin and apiOrigins, never to a third party', async (t) => {
    const { env, auth } = await signedInPage(t);
    const token = await auth.getAccessToken();
    await auth.fetch('/api/private');
    await auth.fetch(`${API}/v1/data`);
    await auth.fetch(`${THIRD}/lib.js`);
    await auth.fetch(new Request(`${THIRD}/beacon`, { method: 'POST', body: 'x' }));
    const auths = env.server.requests.slice(1).map((r) => [r.route, r.headers.get('authorization')]);
    assert.deepEqual(auths, [
      ['GET /api/private', `Bearer ${token}`],
      [`GET ${API}/v1/data`, `Bearer ${token}`],
      [`GET ${THIRD}/lib.js`, null],
      [`POST ${THIRD}/beacon`, null],
    ]);
    assert.equal(auth.authorizes(`${THIRD}/x`), false);
    assert.equal(auth.authorizes('/anything'), true);
  });

  it('does not retry or refresh for a third party 401', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.routes.set(`GET ${THIRD}/x`, () => json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }));
    assert.equal((await auth.fetch(`${THIRD}/x`)).status, 401);
    assert.equal(env.server.count(`GET ${THIRD}/x`), 1);
    assert.equal(env.server.count('POST /auth/refresh'), 1);
  });

  it('adopts x-access-token for the same user from its own origins only', async (t) => {
    const { env, auth, events } = await signedInPage(t);
    const fresh = env.server.issue();
    env.server.routes.set(`GET ${THIRD}/x`, () => json(200, {}, { 'x-access-token': env.server.issue() }));
    await auth.fetch(`${THIRD}/x`);
    assert.notEqual(await auth.getAccessToken(), fresh);
    env.server.routes.set('GET /api/sr', () => json(200, {}, { 'x-access-token': fresh }));
    await auth.fetch('/api/sr');
    assert.equal(await auth.getAccessToken(), fresh);
    assert.equal(events.at(-1)?.type, 'refreshed');
  });

  it('ignores an x-access-token older than the token it holds', async (t) => {
    const { env, auth, events } = await signedInPage(t);
    // Issued before the refresh below, so older (lower iat) than the client's token, yet valid and the same user's.
    const older = env.server.issue();
    env.server.revoke((await auth.getAccessToken())!);
    assert.equal((await auth.fetch('/api/private')).status, 200);
    const current = (await auth.getAccessToken())!;
    const iat = (token: string): number => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number }).iat;
    assert.ok(iat(older) < iat(current) && env.server.valid(older));
    const seen = events.length;
    env.server.routes.set('GET /api/sr', () => json(200, {}, { 'x-access-token': older }));
    await auth.fetch('/api/sr');
    assert.equal(await auth.getAccessToken(), current);
    assert.equal(events.length, seen, 'no refreshed event for a token it did not take');
    // It still takes a newer one.
    const newer = env.server.issue();
    env.server.routes.set('GET /api/sr', () => json(200, {}, { 'x-access-token': newer }));
    await auth.fetch('/api/sr');
    assert.equal(await auth.getAccessToken(), newer);
  });

  it('ignores x-access-token for another user', async (t) => {
    const { env, auth } = await signedInPage(t);
    const before = await auth.getAccessToken();
    env.server.routes.set('GET /api/sr', () => json(200, {}, { 'x-access-token': env.server.issue({ id: 'u-2', username: 'eve' }) }));
    await auth.fetch('/api/sr');
    assert.equal(await auth.getAccessToken(), before);
    assert.equal(auth.user?.id, 'u-1');
  });
});

describe('transient failures', () => {
  it('keeps the session through 503 and network errors, backing off 200 ms·2ⁿ full jitter capped at 30 s', async (t) => {
    const { env, auth, events } = await signedInPage(t);
    const random = Math.random;
    Math.random = () => 0.999_999; // the upper edge of every jitter window
    t.after(() => (Math.random = random));
    env.server.routes.set('POST /auth/refresh', () => Promise.reject(new TypeError('offline')));
    env.clock.jump(540_000);
    await env.fire('online');
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = env.server.count('POST /auth/refresh');
      waits.push(Math.round(env.clock.pending()[0]!));
      await env.clock.advance(env.clock.pending()[0]!);
      assert.equal(env.server.count('POST /auth/refresh'), before + 1);
    }
    assert.deepEqual(waits, [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000].map((ms) => Math.round(ms * 0.999_999)));
    assert.equal(auth.state, 'authenticated');
    assert.deepEqual(new Set(events.slice(1).map((e) => e.type)), new Set(['refresh_failed']));
  });

  it('honours Retry-After on 429 and 503', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.routes.set('POST /auth/refresh', () => json(503, { error: 'unavailable' }, { 'retry-after': '7' }));
    env.clock.jump(540_000);
    await env.fire('focus');
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    await env.clock.advance(6_999);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    env.server.routes.set('POST /auth/refresh', () => json(429, { error: 'rate_limited' }, { 'retry-after': '3' }));
    await env.clock.advance(1);
    assert.equal(env.server.count('POST /auth/refresh'), 3);
    await env.clock.advance(2_999);
    assert.equal(env.server.count('POST /auth/refresh'), 3);
    env.server.routes.delete('POST /auth/refresh');
    await env.clock.advance(1);
    assert.equal(env.server.count('POST /auth/refresh'), 4);
    assert.equal(auth.state, 'authenticated');
  });

  it('a call needing a token after expiry refreshes at once instead of waiting for the backoff', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.routes.set('POST /auth/refresh', () => json(503, { error: 'unavailable' }, { 'retry-after': '120' }));
    env.clock.jump(540_000);
    await env.fire('focus');
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    // still valid: the token is served without refreshing
    assert.ok(await auth.getAccessToken());
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    env.server.routes.delete('POST /auth/refresh');
    env.clock.jump(61_000); // expired, backoff timer still 59 s away
    assert.equal((await auth.fetch('/api/private')).status, 200);
    assert.equal(env.server.count('POST /auth/refresh'), 3);
  });

  it('rejects a fetch with the refresh error when signed in but no token can be had', async (t) => {
    const { env, auth } = await signedInPage(t);
    env.server.routes.set('POST /auth/refresh', () => Promise.reject(new TypeError('offline')));
    env.clock.jump(601_000);
    await assert.rejects(auth.fetch('/api/private'), (e: unknown) => e instanceof AuthError && e.code === 'network_error' && e.status === 0);
    assert.equal(auth.state, 'authenticated');
    assert.equal(await auth.getAccessToken(), null);
  });

  it('only 401 invalid_refresh_token signs out', async (t) => {
    const { env, auth, events } = await signedInPage(t);
    for (const [status, error] of [[400, 'invalid_request'], [403, 'csrf_failed'], [500, 'internal'], [401, 'missing_token']] as const) {
      env.server.routes.set('POST /auth/refresh', () => json(status, { error }));
      env.clock.jump(600_000);
      await auth.getAccessToken();
      assert.equal(auth.state, 'authenticated', `${status} ${error}`);
    }
    env.server.routes.set('POST /auth/refresh', () => json(401, { error: 'invalid_refresh_token' }));
    env.clock.jump(600_000);
    assert.equal(await auth.getAccessToken(), null);
    assert.equal(auth.state, 'anonymous');
    assert.equal(auth.user, null);
    assert.equal(events.at(-1)?.type, 'signed_out');
    assert.equal(env.storage.getItem('hush:session'), null);
    assert.deepEqual(env.clock.pending(), [], 'no timers left behind');
  });
});

describe('account calls', () => {
  it('login and signup reject with AuthError carrying status, code and Retry-After', async (t) => {
    const env = installEnv(t);
    const auth = createAuthClient();
    env.server.routes.set('POST /auth/login', () => json(401, { error: 'invalid_credentials', error_description: 'Wrong username or password' }));
    await assert.rejects(auth.login('ada', 'nope'), (e: unknown) => e instanceof AuthError && e.status === 401 && e.code === 'invalid_credentials' && e.message === 'Wrong username or password');
    env.server.routes.set('POST /auth/login', () => json(429, { error: 'rate_limited' }, { 'retry-after': '30' }));
    await assert.rejects(auth.login('ada', 'nope'), (e: unknown) => e instanceof AuthError && e.code === 'rate_limited' && e.retryAfter === 30);
    env.server.routes.set('POST /auth/signup', () => json(409, { error: 'username_taken' }));
    await assert.rejects(auth.signup('ada', 'long enough'), { code: 'username_taken', status: 409 });
    assert.equal(auth.state, 'anonymous');
  });

  it('signup and login send JSON with credentials and sign in', async (t) => {
    const env = installEnv(t);
    const auth = createAuthClient();
    const events: string[] = [];
    auth.onChange((e) => events.push(`${e.type}:${auth.state}`));
    await auth.signup('ada', 'correct horse');
    const req = env.server.requests[0]!;
    assert.equal(req.headers.get('content-type'), 'application/json');
    assert.equal(req.credentials, 'include');
    assert.deepEqual(JSON.parse(req.body), { username: 'ada', password: 'correct horse' });
    assert.deepEqual(events, ['signed_in:authenticated']);
  });

  it('changePassword sends both passwords with the Bearer token and continues with the new token', async (t) => {
    const { env, auth, events } = await signedInPage(t);
    const before = await auth.getAccessToken();
    await auth.changePassword('old password', 'new password');
    const req = env.server.requests.at(-1)!;
    assert.equal(req.route, 'POST /auth/password');
    assert.equal(req.headers.get('authorization'), `Bearer ${before}`);
    assert.deepEqual(JSON.parse(req.body), { currentPassword: 'old password', newPassword: 'new password' });
    assert.notEqual(await auth.getAccessToken(), before);
    assert.equal(events.at(-1)?.type, 'refreshed');
    env.server.routes.set('POST /auth/password', () => json(403, { error: 'invalid_credentials' }));
    await assert.rejects(auth.changePassword('wrong', 'new password 2'), { status: 403, code: 'invalid_credentials' });
    assert.equal(auth.state, 'authenticated');
  });

  it('logout posts with X-Requested-With and credentials and signs out even if the server is unreachable', async (t) => {
    const { env, auth } = await signedInPage(t);
    await auth.logout();
    const req = env.server.requests.at(-1)!;
    assert.equal(req.route, 'POST /auth/logout');
    assert.ok(req.headers.get('x-requested-with'));
    assert.equal(req.credentials, 'include');
    assert.equal(auth.state, 'anonymous');
    await auth.login('ada', 'pw pw pw pw');
    env.server.routes.set('POST /auth/logout', () => Promise.reject(new TypeError('offline')));
    await assert.rejects(auth.logout(), { code: 'network_error' });
    assert.equal(auth.state, 'anonymous');
  });

  it('logoutAll revokes with the Bearer token, then logs out here', async (t) => {
    const { env, auth } = await signedInPage(t);
    const token = await auth.getAccessToken();
    await auth.logoutAll();
    assert.deepEqual(env.server.requests.slice(-2).map((r) => [r.route, r.headers.get('authorization')]), [
      ['POST /auth/logout-all', `Bearer ${token}`],
      ['POST /auth/logout', null],
    ]);
    assert.equal(auth.state, 'anonymous');
  });

  it('discards a refresh that was in flight when the user logged out, and logout waits for it', async (t) => {
    const { env, auth } = await signedInPage(t);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    env.server.routes.set('POST /auth/refresh', async () => {
      await gate;
      return env.server.tokenResponse();
    });
    env.clock.jump(595_000);
    await env.fire('focus');
    const out = auth.logout();
    await settle();
    assert.equal(env.server.count('POST /auth/logout'), 0, 'logout waits for the refresh so its cookie is not resurrected');
    release();
    await out;
    assert.equal(auth.state, 'anonymous');
    assert.equal(env.server.session, false);
  });
});

describe('events', () => {
  it('a throwing listener neither stops the others nor breaks the client', async (t) => {
    const env = installEnv(t);
    const auth = createAuthClient();
    const seen: string[] = [];
    auth.onChange(() => {
      throw new Error('app bug');
    });
    const off = auth.onChange((e) => seen.push(e.type));
    await auth.login('ada', 'pw pw pw pw');
    assert.deepEqual(seen, ['signed_in']);
    await env.clock.advance(0);
    assert.equal((env.clock.errors[0] as Error).message, 'app bug', 'reported asynchronously');
    off();
    await auth.logout();
    assert.deepEqual(seen, ['signed_in']);
  });
});

describe('tabs', () => {
  it('a logout in one tab signs the others out at once', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    const a = createAuthClient();
    const b = createAuthClient();
    await Promise.all([a.ready, b.ready]);
    const seen: string[] = [];
    b.onChange((e) => seen.push(`${e.type}:${b.state}`));
    await a.logout();
    await settle();
    assert.equal(b.state, 'anonymous');
    assert.deepEqual(seen, ['signed_out:anonymous']);
    assert.equal(await b.getAccessToken(), null);
  });

  it('a refresh refused in one tab signs the others out', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    const a = createAuthClient();
    const b = createAuthClient();
    await Promise.all([a.ready, b.ready]);
    env.server.session = false;
    env.clock.jump(601_000);
    await a.getAccessToken();
    await settle();
    assert.equal(a.state, 'anonymous');
    assert.equal(b.state, 'anonymous');
  });

  it('shares a refreshed token so the other tab does not refresh too', async (t) => {
    const env = installEnv(t, { hint: true });
    env.server.session = true;
    const a = createAuthClient();
    await a.ready;
    env.clock.jump(1);
    const b = createAuthClient();
    await b.ready;
    await settle();
    assert.equal(env.server.count('POST /auth/refresh'), 2);
    assert.equal(await a.getAccessToken(), await b.getAccessToken(), 'b shared its start-up token with a');
    const seen: string[] = [];
    a.onChange((e) => seen.push(e.type));
    await env.clock.advance(600_000 - 60_000);
    assert.equal(env.server.count('POST /auth/refresh'), 3, 'one refresh for both tabs');
    assert.equal(await a.getAccessToken(), await b.getAccessToken());
    assert.deepEqual(seen, ['refreshed']);
  });

  it('a login in one tab signs in a signed-out tab', async (t) => {
    const env = installEnv(t);
    const a = createAuthClient();
    const b = createAuthClient();
    await a.login('ada', 'pw pw pw pw');
    await settle();
    assert.equal(b.state, 'authenticated');
    assert.equal(env.server.count('POST /auth/refresh'), 0);
  });

  it('a refresh refused after another tab logged in does not sign anyone out', async (t) => {
    const env = installEnv(t);
    const b = createAuthClient(); // a signed-out tab
    env.storage.setItem('hush:session', '1');
    env.server.session = true;
    const a = createAuthClient();
    await a.ready;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    env.server.routes.set('POST /auth/refresh', async () => {
      await gate;
      return json(401, { error: 'invalid_refresh_token' });
    });
    env.clock.jump(595_000);
    await env.fire('focus'); // a's refresh is in flight with the old cookie
    await b.login('ada', 'pw pw pw pw'); // the cookie is replaced meanwhile
    await settle();
    release();
    await settle();
    assert.equal(a.state, 'authenticated');
    assert.equal(b.state, 'authenticated');
    assert.equal(await a.getAccessToken(), await b.getAccessToken());
  });

  it('ignores a refused-refresh notice older than its token, never a logout', async (t) => {
    const { env, auth } = await signedInPage(t);
    const tab = new BroadcastChannel('hush:auth');
    t.after(() => tab.close());
    tab.postMessage({ out: env.clock.now - 1 });
    await settle();
    assert.equal(auth.state, 'authenticated');
    tab.postMessage({ out: 0 });
    await settle();
    assert.equal(auth.state, 'anonymous');
  });

  it('ignores messages it does not understand', async (t) => {
    const { auth } = await signedInPage(t);
    const tab = new BroadcastChannel('hush:auth');
    t.after(() => tab.close());
    tab.postMessage({ hello: 'world' });
    await settle();
    assert.equal(auth.state, 'authenticated');
  });
});

describe('Web Locks', () => {
  it('go ahead without the lock when it is not granted within 5 s', async (t) => {
    const { env, auth } = await signedInPage(t, { locks: true });
    env.locks!.stuck = true;
    env.clock.jump(601_000);
    const token = auth.getAccessToken();
    await env.clock.advance(4_999);
    assert.equal(env.server.count('POST /auth/refresh'), 1);
    await env.clock.advance(1);
    assert.ok(await token);
    assert.equal(env.server.count('POST /auth/refresh'), 2);
  });

  it('a tab that waited for the lock uses the token another tab shared instead of refreshing', async (t) => {
    const env = installEnv(t, { hint: true, locks: true });
    env.server.session = true;
    const a = createAuthClient();
    await a.ready;
    const b = createAuthClient();
    await b.ready;
    const starts = env.server.count('POST /auth/refresh');
    env.clock.jump(601_000);
    const both = Promise.all([a.getAccessToken(), b.getAccessToken()]);
    await env.clock.advance(50);
    const [ta, tb] = await both;
    assert.equal(env.server.count('POST /auth/refresh'), starts + 1);
    assert.equal(ta, tb);
  });

  it('never calls app listeners while holding the lock', async (t) => {
    const env = installEnv(t, { hint: true, locks: true });
    env.server.session = true;
    const auth = createAuthClient();
    const held: boolean[] = [];
    auth.onChange(() => held.push(env.locks!.held));
    await auth.ready;
    await auth.login('ada', 'pw pw pw pw');
    await auth.changePassword('pw pw pw pw', 'pw2 pw2 pw2');
    await auth.logout();
    assert.equal(held.length, 4);
    assert.deepEqual(held, [false, false, false, false]);
  });
});
