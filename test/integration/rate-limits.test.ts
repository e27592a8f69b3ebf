/**
 * The contract's rate limits, with HUSH_RATE_LIMIT on: failed password checks per (username,
 * address) — the 11th is 429 and so is the right password after it; a growing delay per username
 * across addresses; per-address caps on login + signup (100/min) and refresh (300/min); client
 * addresses from X-Forwarded-For only with HUSH_TRUST_PROXY; IPv6 counted per /64; a known device
 * (the `__Host-hush-device` cookie of an earlier sign-in) is limited on its own, never by the
 * username-wide lock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/server.js';
import { assertError, assertTokenResponse, cookieNamed, sleep, uniqueName, uniquePassword, type Api, type HttpReply } from './helpers/http.js';
import { databases, sharedServer, TEST_REFRESH_SECRET, TEST_SECRET } from './helpers/suite.js';

const LIMITED_ENV = { HUSH_SECRET: TEST_SECRET, HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET };
const FAILURES_ALLOWED = 10;
const WINDOW_SECONDS = 15 * 60;

/** Asserts 429 `rate_limited` with a `Retry-After` in whole seconds; returns it. */
function assertRateLimited(reply: HttpReply, maxSeconds = WINDOW_SECONDS): number {
  assertError(reply, 429, 'rate_limited');
  const header = reply.headers.get('retry-after') ?? '';
  assert.match(header, /^\d+$/, `Retry-After is delta-seconds: "${header}"`);
  const seconds = Number(header);
  assert.ok(seconds >= 1 && seconds <= maxSeconds, `Retry-After ${seconds}`);
  return seconds;
}

const from = (address: string): Record<string, string> => ({ 'x-forwarded-for': address });

/**
 * Fails `attempt` until it is refused; asserts it was refused at the 11th failure at the latest and
 * that, before that, failures were answered as such (`failureStatus`).
 */
async function failUntilLimited(attempt: () => Promise<HttpReply>, failureStatus: number, failureCode = 'invalid_credentials'): Promise<HttpReply> {
  for (let i = 1; i <= FAILURES_ALLOWED + 1; i++) {
    const reply = await attempt();
    if (reply.status === 429) {
      assert.ok(i > 1, 'the first failure is answered, not throttled');
      return reply;
    }
    assertError(reply, failureStatus, failureCode);
  }
  assert.fail(`the ${FAILURES_ALLOWED + 1}th failed attempt was not refused`);
}

const DEVICE_COOKIE = '__Host-hush-device';
const YEAR_SECONDS = 365 * 24 * 60 * 60;

/** The device cookie a completed sign-in sets, checked against the contract's attributes; its value. */
function deviceCookieOf(reply: HttpReply): string {
  const cookie = cookieNamed(reply, DEVICE_COOKIE);
  assert.equal(cookie.attributes['httponly'], true);
  assert.equal(cookie.attributes['secure'], true);
  assert.equal(cookie.attributes['samesite'], 'Strict');
  assert.equal(cookie.attributes['path'], '/');
  assert.equal(cookie.attributes['domain'], undefined);
  assert.equal(cookie.attributes['max-age'], String(YEAR_SECONDS));
  assert.ok(cookie.value.length > 0);
  return cookie.value;
}

/** Addresses no other test uses: 10.x.y.z from a counter. */
let nextAddress = Math.floor(Math.random() * 1000) * 1000;
const freshAddress = (): Record<string, string> => {
  const n = ++nextAddress;
  return from(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
};

/**
 * Strangers guess at `username` from many addresses until it is locked for everyone for at least
 * a minute (so the lock outlasts the checks that follow, on a loaded machine too): bursts of
 * parallel wrong passwords, each from its own address, waiting out shorter locks in between.
 */
async function lockForEveryone(api: Api, username: string): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const burst = await Promise.all(Array.from({ length: 30 }, () => api.login(username, 'wrong password!', freshAddress())));
    for (const reply of burst) if (reply.status !== 429) assertError(reply, 401, 'invalid_credentials');
    const probe = await api.login(username, 'wrong password!', freshAddress());
    if (probe.status === 429) {
      const seconds = assertRateLimited(probe);
      if (seconds >= 60) return;
      await sleep(seconds * 1000 + 100);
    }
  }
  assert.fail(`${username} was never locked for a minute`);
}

async function wrongLogins(api: Api, username: string, headers?: Record<string, string>): Promise<HttpReply> {
  return failUntilLimited(() => api.login(username, 'wrong password!', headers), 401);
}

for (const { database, skip } of await databases()) {
  describe(`rate limits, proxies not trusted (${database})`, { skip }, () => {
    const shared = sharedServer(database, LIMITED_ENV);

    it('answers the 11th failed login for a username from an address with 429 rate_limited and Retry-After; the right password too; other usernames pass', async () => {
      const username = uniqueName('guessed');
      const password = uniquePassword();
      await shared.api.session(username, password);
      const bystander = uniqueName('bystander');
      const bystanderPassword = uniquePassword();
      await shared.api.session(bystander, bystanderPassword);

      assertRateLimited(await wrongLogins(shared.api, username));
      assertRateLimited(await shared.api.login(username, password));
      assertRateLimited(await shared.api.login(username.toUpperCase(), password));
      assertTokenResponse(await shared.api.login(bystander, bystanderPassword), 200, bystander);
    });

    it('throttles unknown usernames the same way', async () => {
      const ghost = uniqueName('ghost');
      assertRateLimited(await wrongLogins(shared.api, ghost));
      assertRateLimited(await shared.api.login(ghost, 'another wrong password'));
    });

    it('ignores X-Forwarded-For: failures "from" many forwarded addresses are one address', async () => {
      const username = uniqueName('xff');
      const password = uniquePassword();
      await shared.api.session(username, password);
      let n = 0;
      const reply = await failUntilLimited(() => shared.api.login(username, 'wrong password!', from(`198.51.100.${++n}`)), 401);
      assertRateLimited(reply);
      assertRateLimited(await shared.api.login(username, password, from('203.0.113.200')));
    });

    it('counts a wrong current password (password change, account deletion) as a failed login', async () => {
      const changer = await shared.api.session(uniqueName('changer'), uniquePassword());
      const limited = await failUntilLimited(() => shared.api.changePassword(changer.token, 'wrong password!', uniquePassword()), 403);
      assertRateLimited(limited);
      assertRateLimited(await shared.api.login(changer.username, changer.password));
      assertRateLimited(await shared.api.changePassword(changer.token, changer.password, uniquePassword()));

      const deleter = await shared.api.session(uniqueName('deleter'), uniquePassword());
      assertRateLimited(await failUntilLimited(() => shared.api.deleteMe(deleter.token, 'wrong password!'), 403));
      assertRateLimited(await shared.api.deleteMe(deleter.token, deleter.password));
      assert.equal((await shared.api.me(deleter.token)).status, 200, 'the account is still there');
    });
  });

  describe(`known devices: the device cookie (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...LIMITED_ENV, HUSH_TRUST_PROXY: '1' });

    /** A login presenting `device` as the device cookie (none when undefined). */
    const loginWith = (device: string | undefined, username: string, password: string, address = freshAddress()): Promise<HttpReply> => {
      shared.api.remember(password);
      return shared.api.send('POST', '/auth/login', { json: { username, password }, headers: address, cookies: device === undefined ? undefined : { [DEVICE_COOKIE]: device } });
    };

    it("lets the owner sign in, change the password and delete the account from a known device while strangers keep the username locked for everyone else", async () => {
      const username = uniqueName('victim');
      const password = uniquePassword();
      const home = freshAddress();
      const signup = await shared.api.signup(username, password, home);
      assertTokenResponse(signup, 201, username);
      let device = deviceCookieOf(signup);

      await lockForEveryone(shared.api, username);
      assertRateLimited(await loginWith(undefined, username, password, home), WINDOW_SECONDS);
      assertRateLimited(await loginWith(undefined, username, password));

      const known = await loginWith(device, username, password, home);
      const session = shared.api.sessionFrom(known, username, password);
      assertTokenResponse(known, 200, username);
      device = deviceCookieOf(known);
      // Whatever address the known device comes from, even one the strangers used.
      assertTokenResponse(await loginWith(device, username, password), 200, username);
      // The lock was in force all along: strangers are still refused, the right password included.
      assertRateLimited(await loginWith(undefined, username, password));

      const next = uniquePassword();
      shared.api.remember(next);
      const changed = await shared.api.send('POST', '/auth/password', {
        token: session.token,
        json: { currentPassword: password, newPassword: next },
        headers: home,
        cookies: { [DEVICE_COOKIE]: device },
      });
      assertTokenResponse(changed, 200, username);
      device = deviceCookieOf(changed);
      const after = shared.api.sessionFrom(changed, username, next);

      const deleted = await shared.api.send('DELETE', '/auth/me', { token: after.token, json: { password: next }, headers: home, cookies: { [DEVICE_COOKIE]: device } });
      assert.equal(deleted.status, 204, deleted.text);
      assertRateLimited(await loginWith(undefined, username, next));
    });

    it('limits a known device to 10 failures in 15 minutes on its own, leaving other devices of the owner alone', async () => {
      const username = uniqueName('fumbler');
      const password = uniquePassword();
      const phone = deviceCookieOf(await shared.api.signup(username, password, freshAddress()));
      const laptop = deviceCookieOf(await loginWith(undefined, username, password));
      await lockForEveryone(shared.api, username);
      const reply = await failUntilLimited(() => loginWith(phone, username, 'wrong password!'), 401);
      assertRateLimited(reply);
      assertRateLimited(await loginWith(phone, username, password));
      assertTokenResponse(await loginWith(laptop, username, password), 200, username);
    });

    it("keeps one entry per user, for up to 5 users, in one cookie; a sixth user's sign-in drops the oldest", async () => {
      const users = Array.from({ length: 6 }, () => ({ username: uniqueName('shared-pc'), password: uniquePassword() }));
      let device: string | undefined;
      for (const u of users) {
        shared.api.remember(u.password);
        const reply = await shared.api.send('POST', '/auth/signup', { json: u, headers: freshAddress(), cookies: device === undefined ? undefined : { [DEVICE_COOKIE]: device } });
        assertTokenResponse(reply, 201, u.username);
        device = deviceCookieOf(reply);
      }
      const [oldest, second] = users;
      await lockForEveryone(shared.api, oldest!.username);
      await lockForEveryone(shared.api, second!.username);
      assertRateLimited(await loginWith(device, oldest!.username, oldest!.password));
      assertTokenResponse(await loginWith(device, second!.username, second!.password), 200, second!.username);
    });

    it('does not let a device cookie of one account past the lock of another, known or unknown', async () => {
      const mine = { username: uniqueName('mine'), password: uniquePassword() };
      const signup = await shared.api.signup(mine.username, mine.password, freshAddress());
      const device = deviceCookieOf(signup);
      const myId = assertTokenResponse(signup, 201).user.id;
      const victim = await shared.api.session(uniqueName('theirs'), uniquePassword());
      const ghost = uniqueName('ghost');
      await lockForEveryone(shared.api, victim.username);
      await lockForEveryone(shared.api, ghost);
      assertRateLimited(await loginWith(device, victim.username, victim.password));
      assertRateLimited(await loginWith(device, ghost, victim.password));
      // My entry relabelled with the victim's id no longer matches its HMAC.
      assert.ok(device.includes(myId));
      assertRateLimited(await loginWith(device.replace(myId, victim.user.id), victim.username, victim.password));
      assertTokenResponse(await loginWith(device, mine.username, mine.password), 200, mine.username);
    });

    it('ends the device cookies of the user at logout-all, suspension and deletion, but not at a password change', async () => {
      // Password change, then logout-all.
      const username = uniqueName('ender');
      const password = uniquePassword();
      const signup = await shared.api.signup(username, password, freshAddress());
      const first = deviceCookieOf(signup);
      const session = shared.api.sessionFrom(signup, username, password);
      await lockForEveryone(shared.api, username);
      const next = uniquePassword();
      shared.api.remember(next);
      const changed = await shared.api.send('POST', '/auth/password', {
        token: session.token,
        json: { currentPassword: password, newPassword: next },
        headers: freshAddress(),
        cookies: { [DEVICE_COOKIE]: first },
      });
      assertTokenResponse(changed, 200, username);
      const afterChange = shared.api.sessionFrom(changed, username, next);
      const known = await loginWith(first, username, next);
      assertTokenResponse(known, 200, username);
      const latest = deviceCookieOf(known);
      assert.equal((await shared.api.logoutAll(afterChange.token)).status, 204);
      assertRateLimited(await loginWith(latest, username, next));
      assertRateLimited(await loginWith(first, username, next));

      // Suspension (and unsuspension revives nothing).
      const suspended = uniqueName('suspended');
      const suspendedPassword = uniquePassword();
      const before = deviceCookieOf(await shared.api.signup(suspended, suspendedPassword, freshAddress()));
      await lockForEveryone(shared.api, suspended);
      assertTokenResponse(await loginWith(before, suspended, suspendedPassword), 200, suspended);
      const suspend = await runCli(['user', 'suspend', suspended], { env: shared.server.env });
      assert.equal(suspend.code, 0, suspend.stderr);
      assertRateLimited(await loginWith(before, suspended, suspendedPassword));
      const lift = await runCli(['user', 'unsuspend', suspended], { env: shared.server.env });
      assert.equal(lift.code, 0, lift.stderr);
      assertRateLimited(await loginWith(before, suspended, suspendedPassword));

      // Deletion: the name signed up again is another account, which the old cookie does not know.
      const deleted = uniqueName('deleted');
      const deletedPassword = uniquePassword();
      const made = await shared.api.signup(deleted, deletedPassword, freshAddress());
      const old = deviceCookieOf(made);
      const doomed = shared.api.sessionFrom(made, deleted, deletedPassword);
      assert.equal((await shared.api.deleteMe(doomed.token, deletedPassword, freshAddress())).status, 204);
      await shared.api.session(deleted, deletedPassword);
      await lockForEveryone(shared.api, deleted);
      assertRateLimited(await loginWith(old, deleted, deletedPassword));
    });
  });

  for (const [trustProxy, kind] of [
    ['1', 'hop count'],
    ['127.0.0.1', 'proxy address'],
  ] as const) {
    describe(`rate limits behind a trusted proxy, HUSH_TRUST_PROXY=${trustProxy} (${kind}) (${database})`, { skip }, () => {
      const shared = sharedServer(database, { ...LIMITED_ENV, HUSH_TRUST_PROXY: trustProxy });

      it('takes the client address from X-Forwarded-For: another address is unaffected', async () => {
        const username = uniqueName('proxied');
        const password = uniquePassword();
        await shared.api.session(username, password);
        assertRateLimited(await wrongLogins(shared.api, username, from('203.0.113.10')));
        assertRateLimited(await shared.api.login(username, password, from('203.0.113.10')));
        assertTokenResponse(await shared.api.login(username, password, from('203.0.113.11')), 200, username);
        assertTokenResponse(await shared.api.login(username, password), 200, username);
        const other = uniqueName('other');
        const otherPassword = uniquePassword();
        await shared.api.session(other, otherPassword);
        assertTokenResponse(await shared.api.login(other, otherPassword, from('203.0.113.10')), 200, other);
      });

      it('counts IPv6 addresses per /64', async () => {
        const username = uniqueName('ipv6');
        const password = uniquePassword();
        await shared.api.session(username, password);
        assertRateLimited(await wrongLogins(shared.api, username, from('2001:db8:1:2::1')));
        assertRateLimited(await shared.api.login(username, password, from('2001:db8:1:2:ffff:ffff:ffff:ffff')));
        assertTokenResponse(await shared.api.login(username, password, from('2001:db8:1:3::1')), 200, username);
      });

      it('slows failures for one username across addresses down with a growing Retry-After', async () => {
        const username = uniqueName('spread');
        let address = 0;
        const next = (): Record<string, string> => from(`192.0.2.${++address}`);
        let first: HttpReply | undefined;
        while (!first && address < 60) {
          const reply = await shared.api.login(username, 'wrong password!', next());
          if (reply.status === 429) first = reply;
          else assertError(reply, 401, 'invalid_credentials');
        }
        assert.ok(first, 'spreading failures over 60 addresses is throttled');
        assert.ok(address > FAILURES_ALLOWED + 1, `throttled by the username-wide count, not as one address (at attempt ${address})`);
        // Bounded so that a wrong answer cannot stall the suite; the contract only says the delay grows.
        const firstDelay = assertRateLimited(first, 30);
        await sleep(firstDelay * 1000 + 200);
        assertError(await shared.api.login(username, 'wrong password!', next()), 401, 'invalid_credentials');
        const secondDelay = assertRateLimited(await shared.api.login(username, 'wrong password!', next()));
        assert.ok(secondDelay > firstDelay, `Retry-After grows: ${firstDelay} s, then ${secondDelay} s`);
      });

      it('serves 100 login or signup requests a minute per address, whatever their outcome, and refuses the 101st', async () => {
        const address = from('198.51.100.77');
        const cheap = (i: number): Promise<HttpReply> =>
          shared.api.send('POST', i % 2 === 0 ? '/auth/login' : '/auth/signup', { headers: { ...address, 'content-type': 'application/json' }, body: '{}' });
        for (let batch = 0; batch < 10; batch++) {
          const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => cheap(batch * 10 + i)));
          for (const reply of replies) assertError(reply, 400, 'invalid_request');
        }
        const username = uniqueName('capped');
        const password = uniquePassword();
        assertRateLimited(await shared.api.signup(username, password, address), 60);
        assertRateLimited(await shared.api.login(username, password, address), 60);
        assertTokenResponse(await shared.api.signup(username, password, from('198.51.100.78')), 201, username);
      });

      it('counts password changes and account deletions in the login/signup cap of 100 a minute per address, and refuses the 101st', async () => {
        const address = from('198.51.100.66');
        const session = await shared.api.session(uniqueName('checker'), uniquePassword());
        const cheap = (i: number): Promise<HttpReply> =>
          shared.api.send(i % 2 === 0 ? 'POST' : 'DELETE', i % 2 === 0 ? '/auth/password' : '/auth/me', {
            token: session.token,
            headers: { ...address, 'content-type': 'application/json' },
            body: '{}',
          });
        for (let batch = 0; batch < 10; batch++) {
          const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => cheap(batch * 10 + i)));
          for (const reply of replies) assertError(reply, 400, 'invalid_request');
        }
        assertRateLimited(await shared.api.changePassword(session.token, session.password, uniquePassword(), address), 60);
        assertRateLimited(await shared.api.deleteMe(session.token, session.password, address), 60);
        assertRateLimited(await shared.api.login(session.username, session.password, address), 60);
        assert.equal((await shared.api.me(session.token)).status, 200, 'the account is still there');
        assertTokenResponse(await shared.api.login(session.username, session.password, from('198.51.100.67')), 200, session.username);
      });

      it('serves 300 refresh requests a minute per address, on their own count, and refuses the 301st', async () => {
        const address = from('198.51.100.88');
        const session = await shared.api.session(uniqueName('refresher'), uniquePassword(), 'signup');
        for (let batch = 0; batch < 30; batch++) {
          const replies = await Promise.all(Array.from({ length: 10 }, () => shared.api.refresh(undefined, { ...address, 'x-requested-with': 'XMLHttpRequest' })));
          for (const reply of replies) assertError(reply, 401, 'invalid_refresh_token');
        }
        assertRateLimited(await shared.api.refresh(session.cookie, { ...address, 'x-requested-with': 'XMLHttpRequest' }), 60);
        assertTokenResponse(await shared.api.login(session.username, session.password, address), 200, session.username);
        assertTokenResponse(await shared.api.refresh(session.cookie, { ...from('198.51.100.89'), 'x-requested-with': 'XMLHttpRequest' }), 200);
      });
    });
  }
}
