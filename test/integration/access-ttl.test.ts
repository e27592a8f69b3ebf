/**
 * HUSH_ACCESS_TTL in real time: a 2-second access token is issued with that lifetime and is refused
 * as `invalid_token` once it has expired (the contract allows verifiers at most 60 s of leeway), while
 * the refresh cookie goes on issuing new ones. Its own file: the wait runs beside the other specs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError, assertTokenResponse, decodeJwt, eventually, uniqueName, uniquePassword } from './helpers/http.js';
import { BASE_ENV, databases, sharedServer } from './helpers/suite.js';

const TTL_SECONDS = 2;
const MAX_LEEWAY_SECONDS = 60;

describe('HUSH_ACCESS_TTL', { concurrency: true }, async () => {
  for (const { database, skip } of await databases()) {
    describe(`a 2 s access-token lifetime (${database})`, { skip }, () => {
      const shared = sharedServer(database, { ...BASE_ENV, HUSH_ACCESS_TTL: `${TTL_SECONDS}s` });

      it('issues tokens with expires_in 2 and exp = iat + 2; they expire into 401 invalid_token; refresh issues new ones', async () => {
        const session = await shared.api.session(uniqueName('ttl'), uniquePassword());
        const reply = await shared.api.refresh(session.cookie);
        const body = assertTokenResponse(reply, 200, session.username);
        assert.equal(body.expires_in, TTL_SECONDS);
        const { payload } = decodeJwt(session.token);
        assert.equal((payload['exp'] as number) - (payload['iat'] as number), TTL_SECONDS);
        assert.equal((await shared.api.private(session.token)).status, 200, 'valid at first');

        await eventually(
          async () => (await shared.api.private(session.token)).status === 401,
          (TTL_SECONDS + MAX_LEEWAY_SECONDS + 2) * 1000,
          'refusing the expired access token',
          500,
        );
        const expired = await shared.api.private(session.token);
        assertError(expired, 401, 'invalid_token');
        assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

        const fresh = assertTokenResponse(await shared.api.refresh(session.cookie), 200, session.username);
        assert.equal((await shared.api.private(fresh.access_token)).status, 200);
      });
    });
  }
});
