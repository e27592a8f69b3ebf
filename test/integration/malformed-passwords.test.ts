/**
 * Passwords that are not well-formed Unicode, as raw JSON sends them (`"\ud800"` is valid JSON but
 * not text): refused with a 400 wherever a password is set; at login, and as the current password,
 * they are only passwords that cannot match. Without the check, hashing turned each lone surrogate
 * into U+FFFD, so `…\ud800`, `…\udc00` and `…\ufffd` were one password.
 */
import { describe, it } from 'node:test';
import { assertError, assertTokenResponse, uniqueName, type Api, type HttpReply } from './helpers/http.js';
import { databases, sharedServer } from './helpers/suite.js';

/** A well-formed password ending in U+FFFD, and its two malformed look-alikes, as JSON string literals. */
const STEM = 'pw horse-battery ';
const WELL_FORMED = `${STEM}\ufffd`;
const LONE_HIGH_JSON = `"${STEM}\\ud800"`;
const LONE_LOW_JSON = `"${STEM}\\udc00"`;

/** Sends a JSON body written by hand, so the lone surrogate escape reaches the server as typed. */
function rawJson(api: Api, method: string, path: string, members: Record<string, string>, token?: string): Promise<HttpReply> {
  const body = `{${Object.entries(members).map(([name, literal]) => `${JSON.stringify(name)}:${literal}`).join(',')}}`;
  return api.send(method, path, { body, headers: { 'content-type': 'application/json' }, token });
}

for (const { database, skip } of await databases()) {
  describe(`passwords with lone surrogates (${database})`, { skip }, () => {
    const shared = sharedServer(database);

    it('signup with a lone surrogate in the password is 400 invalid_request, and creates nothing', async () => {
      const { api } = shared;
      const username = uniqueName('lone');
      for (const literal of [LONE_HIGH_JSON, LONE_LOW_JSON]) {
        assertError(await rawJson(api, 'POST', '/auth/signup', { username: JSON.stringify(username), password: literal }), 400, 'invalid_request');
      }
      // The name is still free: nothing was written.
      assertTokenResponse(await api.signup(username, WELL_FORMED), 201, username);
    });

    it('login with a malformed look-alike of the password is 401 invalid_credentials; the real one works', async () => {
      const { api } = shared;
      const username = uniqueName('lone');
      assertTokenResponse(await api.signup(username, WELL_FORMED), 201, username);
      for (const literal of [LONE_HIGH_JSON, LONE_LOW_JSON]) {
        assertError(await rawJson(api, 'POST', '/auth/login', { username: JSON.stringify(username), password: literal }), 401, 'invalid_credentials');
      }
      assertTokenResponse(await api.login(username, WELL_FORMED), 200, username);
    });

    it('a password change to a malformed password is 400; a malformed current password is 403 invalid_credentials', async () => {
      const { api } = shared;
      const username = uniqueName('lone');
      const { access_token: token } = assertTokenResponse(await api.signup(username, WELL_FORMED), 201, username);
      const current = JSON.stringify(WELL_FORMED);
      assertError(await rawJson(api, 'POST', '/auth/password', { currentPassword: current, newPassword: LONE_HIGH_JSON }, token), 400, 'invalid_request');
      assertError(await rawJson(api, 'POST', '/auth/password', { currentPassword: LONE_LOW_JSON, newPassword: JSON.stringify('pw another horse') }, token), 403, 'invalid_credentials');
      // Neither changed anything.
      assertTokenResponse(await api.login(username, WELL_FORMED), 200, username);
    });
  });
}
