/**
 * The contract's rate limits, with HUSH_RATE_LIMIT on: failed password checks per (username,
 * address) — the 11th is 429 and so is the right password after it; a growing delay per username
 * across addresses; per-address caps on the password-checking routes (login, signup, password
 * change, deletion: 100/min) and refresh (300/min); client addresses from X-Forwarded-For only with
 * HUSH_TRUST_PROXY; IPv6 counted per /64. Known devices: known-devices*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError, assertTokenResponse, sleep, uniqueName, uniquePassword, type Api, type HttpReply } from './helpers/http.js';
import { assertRateLimited, FAILURES_ALLOWED, failUntilLimited, from, LIMITED_ENV } from './helpers/limits.js';
import { databases, sharedServer } from './helpers/suite.js';

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
