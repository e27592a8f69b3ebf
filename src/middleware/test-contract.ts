/**
 * Test support: the behaviour every framework guard must show over real HTTP, as one suite each
 * framework's test file runs against its own app. Not part of the build.
 *
 * The app a test starts serves, on a real port:
 * - `GET /private` behind a required guard: 200 `{ id, username, sid, roles }` from the request's user;
 * - `GET /maybe` behind an `optional` guard: 200 `{ user: { id, username } | null }`;
 * - `GET /public` with no guard: 200 `{ user }`, whatever the framework's request holds (null if nothing).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKey, type JwtKey } from '../jwt/index.js';
import type { HushGuardOptions } from './core.js';
import { accessClaims, badTokens, hsKey, SECRET, sign, startJwksServer } from './test-tokens.js';

/** A running resource app. */
export interface GuardedApp {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the app described above with these guard options. */
export type StartApp = (guards: { required: HushGuardOptions; optional: HushGuardOptions }) => Promise<GuardedApp>;

async function get(url: string, authorization?: string): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const response = await fetch(url, { headers: authorization === undefined ? {} : { authorization } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

async function assertRefused(url: string, authorization: string | undefined, code: 'missing_token' | 'invalid_token'): Promise<void> {
  const response = await get(url, authorization);
  assert.equal(response.status, 401, response.text);
  assert.equal(response.headers.get('www-authenticate'), code === 'missing_token' ? 'Bearer realm="hush"' : 'Bearer realm="hush", error="invalid_token"');
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = response.json() as { error: string; error_description: string };
  assert.deepEqual(Object.keys(body), ['error', 'error_description']);
  assert.equal(body.error, code);
  const token = authorization?.replace(/^\S+\s+/, '');
  if (token) {
    assert.ok(!response.text.includes(token), 'the answer does not echo the token');
    const [, payload] = token.split('.');
    if (payload) assert.ok(!response.text.includes(payload), 'nor any part of it');
  }
}

/** Runs the guard contract against the app `start` builds, with the shared secret and with a JWKS. */
export function describeGuardOverHttp(framework: string, start: StartApp): void {
  const modes: Array<{ name: string; key: () => JwtKey; options: () => HushGuardOptions }> = [];
  let jwks: Awaited<ReturnType<typeof startJwksServer>> | undefined;
  const ed = generateKey('EdDSA');
  modes.push({ name: 'HS256 with the shared secret', key: () => hsKey(), options: () => ({ secret: SECRET }) });
  modes.push({ name: 'EdDSA through a JWKS URL', key: () => ed, options: () => ({ jwksUrl: jwks!.url }) });

  describe(`${framework} guard over HTTP`, () => {
    before(async () => {
      jwks = await startJwksServer([ed]);
    });
    after(() => jwks?.close());

    for (const mode of modes) {
      describe(mode.name, () => {
        let app: GuardedApp;
        before(async () => {
          app = await start({ required: mode.options(), optional: { ...mode.options(), optional: true } });
        });
        after(() => app.close());

        it('lets a valid token through with the user on the request', async () => {
          const claims = accessClaims({ preferred_username: 'grace', roles: ['editor'] });
          const response = await get(`${app.url}/private`, `Bearer ${sign(mode.key(), claims)}`);
          assert.equal(response.status, 200, response.text);
          assert.deepEqual(response.json(), { id: claims['sub'], username: 'grace', sid: claims['sid'], roles: ['editor'] });
        });

        it('lets the same token through again (from the cache)', async () => {
          const header = `Bearer ${sign(mode.key())}`;
          for (let i = 0; i < 3; i++) assert.equal((await get(`${app.url}/private`, header)).status, 200);
        });

        it('answers 401 missing_token with a bare Bearer challenge when no token is sent', async () => {
          await assertRefused(`${app.url}/private`, undefined, 'missing_token');
        });

        it('counts an Authorization header of another scheme, or a malformed Bearer one, as no token', async () => {
          await assertRefused(`${app.url}/private`, 'Basic dXNlcjpwYXNzd29yZA==', 'missing_token');
          await assertRefused(`${app.url}/private`, 'Bearer', 'missing_token');
          await assertRefused(`${app.url}/private`, `Token ${sign(mode.key())}`, 'missing_token');
        });

        it('refuses every bad token with 401 invalid_token and an error="invalid_token" challenge', async () => {
          for (const [name, token] of Object.entries(badTokens(mode.key()))) {
            await assert.doesNotReject(assertRefused(`${app.url}/private`, `Bearer ${token}`, 'invalid_token'), name);
          }
        });

        it('with optional, serves a request without a token anonymously', async () => {
          const response = await get(`${app.url}/maybe`);
          assert.equal(response.status, 200, response.text);
          assert.deepEqual(response.json(), { user: null });
        });

        it('with optional, still puts the user of a valid token on the request', async () => {
          const claims = accessClaims();
          const response = await get(`${app.url}/maybe`, `Bearer ${sign(mode.key(), claims)}`);
          assert.deepEqual(response.json(), { user: { id: claims['sub'], username: 'ada' } });
        });

        it('with optional, still refuses a token that was sent and is bad', async () => {
          await assertRefused(`${app.url}/maybe`, `Bearer ${badTokens(mode.key())['tampered']!}`, 'invalid_token');
          await assertRefused(`${app.url}/maybe`, `Bearer ${badTokens(mode.key())['expired']!}`, 'invalid_token');
        });

        it('leaves unguarded routes alone, whatever the Authorization header', async () => {
          for (const header of [undefined, 'Bearer garbage', `Bearer ${sign(mode.key())}`]) {
            const response = await get(`${app.url}/public`, header);
            assert.equal(response.status, 200);
            assert.deepEqual(response.json(), { user: null });
          }
        });
      });
    }

    it('answers 503 unavailable with Retry-After while the JWKS cannot be fetched', async () => {
      const down = await startJwksServer([ed]);
      down.down();
      const app = await start({ required: { jwksUrl: down.url }, optional: { jwksUrl: down.url, optional: true } });
      try {
        const response = await get(`${app.url}/private`, `Bearer ${sign(ed)}`);
        assert.equal(response.status, 503, response.text);
        assert.equal(response.headers.get('retry-after'), '5');
        assert.equal((response.json() as { error: string }).error, 'unavailable');
      } finally {
        await app.close();
        await down.close();
      }
    });

    it('hands an error of the revocations hook to the framework instead of answering 401', async () => {
      const broken = { isRevoked: (): boolean => { throw new Error('revocation feed broken'); } };
      const app = await start({ required: { secret: SECRET, revocations: broken }, optional: { secret: SECRET, optional: true } });
      try {
        const response = await get(`${app.url}/private`, `Bearer ${sign(hsKey())}`);
        assert.equal(response.status, 500);
      } finally {
        await app.close();
      }
    });

    it('refuses a token the revocations hook names, and accepts it otherwise', async () => {
      const claims = accessClaims();
      const revoked = new Set<string>();
      const revocations = { isRevoked: (c: { sid: string }): boolean => revoked.has(c.sid) };
      const app = await start({ required: { secret: SECRET, revocations }, optional: { secret: SECRET, optional: true } });
      try {
        const header = `Bearer ${sign(hsKey(), claims)}`;
        assert.equal((await get(`${app.url}/private`, header)).status, 200);
        revoked.add(claims['sid'] as string);
        await assertRefused(`${app.url}/private`, header, 'invalid_token');
      } finally {
        await app.close();
      }
    });
  });
}
