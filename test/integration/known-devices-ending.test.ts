/**
 * Known devices end with the account's sessions: logout-all, suspension (through the hush CLI) and
 * deletion end the user's device cookies; a password change does not. Each check runs while the
 * username is locked for everyone else, so only a still-valid device cookie lets a login through.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/server.js';
import { assertTokenResponse, uniqueName, uniquePassword, type HttpReply } from './helpers/http.js';
import { assertRateLimited, DEVICE_COOKIE, deviceCookieOf, freshAddress, LIMITED_ENV, lockForEveryone } from './helpers/limits.js';
import { databases, sharedServer } from './helpers/suite.js';

for (const { database, skip } of await databases()) {
  describe(`known devices: what ends them (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...LIMITED_ENV, HUSH_TRUST_PROXY: '1' });

    /** A login presenting `device` as the device cookie (none when undefined). */
    const loginWith = (device: string | undefined, username: string, password: string, address = freshAddress()): Promise<HttpReply> => {
      shared.api.remember(password);
      return shared.api.send('POST', '/auth/login', { json: { username, password }, headers: address, cookies: device === undefined ? undefined : { [DEVICE_COOKIE]: device } });
    };

    it('keeps a device cookie valid across a password change, and ends it at logout-all', async () => {
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
      // The cookie from before the change still works.
      const known = await loginWith(first, username, next);
      assertTokenResponse(known, 200, username);
      const latest = deviceCookieOf(known);

      assert.equal((await shared.api.logoutAll(afterChange.token)).status, 204);
      assertRateLimited(await loginWith(latest, username, next));
      assertRateLimited(await loginWith(first, username, next));
    });

    it('ends device cookies at suspension, and unsuspension revives none', async () => {
      const username = uniqueName('suspended');
      const password = uniquePassword();
      const device = deviceCookieOf(await shared.api.signup(username, password, freshAddress()));
      await lockForEveryone(shared.api, username);
      assertTokenResponse(await loginWith(device, username, password), 200, username);

      const suspend = await runCli(['user', 'suspend', username], { env: shared.server.env });
      assert.equal(suspend.code, 0, suspend.stderr);
      // Refused by the lock before any password is checked: not 403 account_suspended.
      assertRateLimited(await loginWith(device, username, password));
      const lift = await runCli(['user', 'unsuspend', username], { env: shared.server.env });
      assert.equal(lift.code, 0, lift.stderr);
      assertRateLimited(await loginWith(device, username, password));
    });

    it('ends device cookies at deletion: the name signed up again is another account, which the old cookie does not know', async () => {
      const username = uniqueName('deleted');
      const password = uniquePassword();
      const made = await shared.api.signup(username, password, freshAddress());
      const old = deviceCookieOf(made);
      await lockForEveryone(shared.api, username);
      const known = await loginWith(old, username, password);
      assertTokenResponse(known, 200, username);
      const doomed = shared.api.sessionFrom(known, username, password);
      const gone = await shared.api.send('DELETE', '/auth/me', { token: doomed.token, json: { password }, headers: freshAddress(), cookies: { [DEVICE_COOKIE]: old } });
      assert.equal(gone.status, 204, gone.text);

      const again = await shared.api.signup(username, password, freshAddress());
      assertTokenResponse(again, 201, username);
      const fresh = deviceCookieOf(again);
      await lockForEveryone(shared.api, username); // still locked (or locked again, were counters per account)
      assertRateLimited(await loginWith(old, username, password));
      assertTokenResponse(await loginWith(fresh, username, password), 200, username);
    });
  });
}
