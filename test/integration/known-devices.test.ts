/**
 * Known devices (the contract's Rate limits; issue 8, lockout abuse): every completed sign-in sets
 * `__Host-hush-device`, and attempts presenting it for that account are limited per device (10
 * failures in 15 minutes) instead of by the username-wide lock, so strangers cannot lock an owner
 * out of a browser they signed in from before. Over real HTTP, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertTokenResponse, uniqueName, uniquePassword, type HttpReply } from './helpers/http.js';
import { assertRateLimited, DEVICE_COOKIE, deviceCookieOf, failUntilLimited, freshAddress, LIMITED_ENV, lockForEveryone, WINDOW_SECONDS } from './helpers/limits.js';
import { databases, sharedServer } from './helpers/suite.js';

for (const { database, skip } of await databases()) {
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

  });
}
