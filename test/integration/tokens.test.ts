/**
 * Access tokens at the HTTP boundary: RFC 6750 answers of the Bearer routes, the RFC 8725 checks
 * (forged, tampered, confused and expired tokens are `invalid_token`), interoperable signatures
 * (HS256 under HUSH_SECRET, EdDSA through the JWKS), and secret rotation with HUSH_PREVIOUS_SECRETS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { createTestPostgresDatabase } from '../../src/store/test-db.js';
import { startServer } from '../helpers/server.js';
import {
  Api,
  assertError,
  assertNoSecrets,
  assertTokenResponse,
  decodeJwt,
  forgeFrom,
  signHs256,
  uniqueName,
  uniquePassword,
  type HttpReply,
  type JsonObject,
} from './helpers/http.js';
import { BASE_ENV, databases, sharedServer, TEST_REFRESH_SECRET, TEST_SECRET } from './helpers/suite.js';

/** Every route guarded by a Bearer token, with a body that would otherwise be acceptable. */
const BEARER_ROUTES: ReadonlyArray<{ method: string; path: string; json?: JsonObject }> = [
  { method: 'GET', path: '/api/private' },
  { method: 'GET', path: '/auth/me' },
  { method: 'DELETE', path: '/auth/me', json: { password: 'whatever-password' } },
  { method: 'POST', path: '/auth/logout-all' },
  { method: 'POST', path: '/auth/password', json: { currentPassword: 'whatever-password', newPassword: 'another-password' } },
  { method: 'GET', path: '/auth/sessions' },
  { method: 'DELETE', path: '/auth/sessions/some-id' },
];

function assertMissingToken(reply: HttpReply): void {
  assertError(reply, 401, 'missing_token');
  assert.equal(reply.headers.get('www-authenticate'), 'Bearer realm="hush"');
}

function assertInvalidToken(reply: HttpReply): void {
  assertError(reply, 401, 'invalid_token');
  const challenge = reply.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer realm="hush"/);
  assert.match(challenge, /error="invalid_token"/);
}

const now = (): number => Math.floor(Date.now() / 1000);
const secretKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

for (const { database, skip } of await databases()) {
  describe(`Bearer tokens (${database})`, { skip }, () => {
    const shared = sharedServer(database);

    it('answers every Bearer route without a token with 401 missing_token and WWW-Authenticate: Bearer realm="hush"', async () => {
      for (const route of BEARER_ROUTES) {
        assertMissingToken(await shared.api.send(route.method, route.path, { json: route.json }));
      }
    });

    it('counts an Authorization header that is not "Bearer <token>" as no token', async () => {
      const session = await shared.api.session(uniqueName('scheme'), uniquePassword());
      for (const authorization of ['', 'Bearer', 'Bearer ', `Basic ${Buffer.from('user:pass').toString('base64')}`, `Token ${session.token}`, `Bearer${session.token}`, `Digest username="x"`, session.token]) {
        for (const route of BEARER_ROUTES) {
          assertMissingToken(await shared.api.send(route.method, route.path, { json: route.json, headers: { authorization } }));
        }
      }
    });

    it('answers every Bearer route with a bad token with 401 invalid_token and error="invalid_token"', async () => {
      for (const route of BEARER_ROUTES) {
        assertInvalidToken(await shared.api.send(route.method, route.path, { json: route.json, token: 'not.a.token' }));
      }
    });

    it('accepts the scheme name in any case (RFC 7235)', async () => {
      const session = await shared.api.session(uniqueName('case'), uniquePassword());
      for (const scheme of ['bearer', 'BEARER']) {
        const reply = await shared.api.send('GET', '/api/private', { headers: { authorization: `${scheme} ${session.token}` } });
        assert.equal(reply.status, 200, scheme);
      }
    });

    it('checks the token before anything else: no token is 401 whatever the body, media type or origin', async () => {
      for (const route of BEARER_ROUTES.filter((r) => r.method !== 'GET')) {
        const attempts: Array<{ headers: Record<string, string>; body: string }> = [
          { headers: { 'content-type': 'text/plain' }, body: 'plain text' },
          { headers: { 'content-type': 'application/json' }, body: '{broken' },
          { headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, body: '{}' },
          { headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' },
        ];
        for (const options of attempts) {
          assertMissingToken(await shared.api.send(route.method, route.path, options));
        }
      }
    });

    it('issues HS256 tokens that verify under HUSH_SECRET as UTF-8 with an independent library', async () => {
      const session = await shared.api.session(uniqueName('jose'), uniquePassword());
      const { payload, protectedHeader } = await jwtVerify(session.token, secretKey(TEST_SECRET), {
        algorithms: ['HS256'],
        issuer: 'hush',
        audience: 'hush',
        typ: 'at+jwt',
      });
      assert.equal(protectedHeader.typ, 'at+jwt');
      assert.equal(payload.sub, session.user.id);
      assert.equal(payload['preferred_username'], session.username);
      for (const claim of ['client_id', 'jti', 'sid']) assert.equal(typeof payload[claim], 'string', claim);
    });

    it('accepts a token whose aud is an array containing the audience', async () => {
      const session = await shared.api.session(uniqueName('audarray'), uniquePassword());
      const token = forgeFrom(session.token, { aud: ['another-api', 'hush'] }, TEST_SECRET);
      assert.equal((await shared.api.private(token)).status, 200);
    });

    it('refuses forged, tampered and confused tokens with 401 invalid_token', async () => {
      const session = await shared.api.session(uniqueName('forged'), uniquePassword());
      const [head = '', body = '', signature = ''] = session.token.split('.');
      const { header, payload } = decodeJwt(session.token);
      const t = now();
      const cases: Record<string, string> = {
        'garbage': 'garbage',
        'a flipped signature': `${head}.${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`,
        'no signature': `${head}.${body}.`,
        'a changed payload': `${head}.${Buffer.from(JSON.stringify({ ...payload, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${signature}`,
        'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${body}.`,
        'another secret': forgeFrom(session.token, {}, 'some-other-secret-that-is-long-enough-0123456789'),
        'HS512 under the right secret': (() => {
          const h = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'at+jwt' })).toString('base64url');
          return `${h}.${body}.${signature}`;
        })(),
        'a wrong issuer': forgeFrom(session.token, { iss: 'someone-else' }, TEST_SECRET),
        'a wrong audience': forgeFrom(session.token, { aud: 'another-api' }, TEST_SECRET),
        'an audience array without hush': forgeFrom(session.token, { aud: ['a', 'b'] }, TEST_SECRET),
        'no issuer': forgeFrom(session.token, { iss: undefined }, TEST_SECRET),
        'no audience': forgeFrom(session.token, { aud: undefined }, TEST_SECRET),
        'no exp': forgeFrom(session.token, { exp: undefined }, TEST_SECRET),
        'exp as a string': forgeFrom(session.token, { exp: String(t + 600) }, TEST_SECRET),
        'expired beyond any leeway': forgeFrom(session.token, { iat: t - 720, exp: t - 120 }, TEST_SECRET),
        'not valid before the future': forgeFrom(session.token, { nbf: t + 600 }, TEST_SECRET),
        'typ JWT instead of at+jwt': forgeFrom(session.token, {}, TEST_SECRET, { ...header, typ: 'JWT' }),
        'no typ': forgeFrom(session.token, {}, TEST_SECRET, { alg: 'HS256' }),
        'a duplicated header member': signHs256(payload, TEST_SECRET, '{"alg":"HS256","typ":"at+jwt","typ":"at+jwt"}'),
        'a header with crit': forgeFrom(session.token, {}, TEST_SECRET, { ...header, crit: ['exp'], exp: 1 }),
        'more than 8 KiB': forgeFrom(session.token, { padding: 'x'.repeat(8 * 1024) }, TEST_SECRET),
        'the refresh token': session.cookie,
        'a JSON array payload': signHs256('[1,2,3]', TEST_SECRET),
      };
      for (const [what, token] of Object.entries(cases)) {
        const reply = await shared.api.send('GET', '/api/private', { headers: { authorization: `Bearer ${token}` } });
        if (reply.status === 401 && (reply.body as JsonObject | undefined)?.['error'] === 'missing_token') {
          // Not even shaped like a token: counted as none, which is also a refusal.
          assertMissingToken(reply);
          continue;
        }
        assert.equal(reply.status, 401, `${what} must be refused`);
        assertInvalidToken(reply);
      }
      // The real token still works: nothing above was a side effect.
      assert.equal((await shared.api.private(session.token)).status, 200);
    });
    it('refuses a token issued in the future beyond the leeway (iat checked)', async () => {
      const session = await shared.api.session(uniqueName('future'), uniquePassword());
      const t = now();
      assertInvalidToken(await shared.api.private(forgeFrom(session.token, { iat: t + 600, exp: t + 1200 }, TEST_SECRET)));
    });
  });

  describe(`EdDSA signing keys (${database})`, { skip }, () => {
    const shared = sharedServer(database, { ...BASE_ENV, HUSH_JWT_ALG: 'EdDSA' });

    it('publishes the public key in the JWKS: kid, alg EdDSA, use sig, no private member', async () => {
      const reply = await shared.api.send('GET', '/.well-known/jwks.json');
      assert.equal(reply.status, 200);
      const { keys } = reply.body as { keys: JsonObject[] };
      assert.ok(keys.length >= 1);
      for (const key of keys) {
        assert.equal(typeof key['kid'], 'string');
        assert.ok((key['kid'] as string).length > 0);
        assert.equal(key['alg'], 'EdDSA');
        assert.equal(key['use'], 'sig');
        assert.equal(key['kty'], 'OKP');
        assert.equal(key['crv'], 'Ed25519');
        assert.equal(typeof key['x'], 'string');
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[secret], undefined, `no "${secret}" member`);
      }
    });

    it('signs access tokens with that key (kid set) so that a JWKS client verifies them', async () => {
      const session = await shared.api.session(uniqueName('eddsa'), uniquePassword());
      const jwks = (await shared.api.send('GET', '/.well-known/jwks.json')).body as JSONWebKeySet;
      const { header } = decodeJwt(session.token);
      assert.equal(header['alg'], 'EdDSA');
      assert.equal(header['typ'], 'at+jwt');
      assert.ok(jwks.keys.some((k) => k.kid === header['kid']), 'the token names a published kid');
      const { payload } = await jwtVerify(session.token, createLocalJWKSet(jwks), { issuer: 'hush', audience: 'hush', typ: 'at+jwt' });
      assert.equal(payload.sub, session.user.id);
      assert.equal((await shared.api.private(session.token)).status, 200);
      assertTokenResponse(await shared.api.refresh(session.cookie), 200, session.username);
    });

    it('refuses HS256 tokens, even under HUSH_SECRET or the public key (no algorithm confusion)', async () => {
      const session = await shared.api.session(uniqueName('confusion'), uniquePassword());
      const jwks = (await shared.api.send('GET', '/.well-known/jwks.json')).body as { keys: JsonObject[] };
      const { header } = decodeJwt(session.token);
      const hs = { alg: 'HS256', typ: 'at+jwt', kid: header['kid'] };
      const publicX = jwks.keys[0]!['x'] as string;
      for (const secret of [TEST_SECRET, publicX, JSON.stringify(jwks.keys[0])]) {
        assertInvalidToken(await shared.api.private(forgeFrom(session.token, {}, secret, hs)));
      }
    });
  });

  describe(`HUSH_PREVIOUS_SECRETS (${database})`, { skip }, () => {
    const SECRET_A = 'rotation-secret-A-0123456789-abcdefghijklmnopqrstuvwxyz';
    const SECRET_B = 'rotation-secret-B-0123456789-abcdefghijklmnopqrstuvwxyz';
    let dataDir = '';
    let pg: { url: string; drop(): Promise<void> } | undefined;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'hush-rotation-'));
      if (database === 'postgres') pg = await createTestPostgresDatabase();
    });
    after(async () => {
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('keeps tokens signed under the retired secret valid after a restart on a new HUSH_SECRET', async () => {
      const common = { HUSH_RATE_LIMIT: 'off', HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET, ...(pg ? { DATABASE_URL: pg.url } : {}) };
      const first = await startServer({ dataDir, env: { ...common, HUSH_SECRET: SECRET_A } });
      const before = new Api(first.url);
      let session;
      try {
        session = await before.session(uniqueName('rotate'), uniquePassword());
      } finally {
        await first.close();
      }
      assertNoSecrets(first.output(), before.secrets);
      await jwtVerify(session.token, secretKey(SECRET_A), { algorithms: ['HS256'] });

      const second = await startServer({ dataDir, env: { ...common, HUSH_SECRET: SECRET_B, HUSH_PREVIOUS_SECRETS: SECRET_A } });
      const api = new Api(second.url);
      try {
        assert.equal((await api.private(session.token)).status, 200, 'a token signed under the previous secret verifies');
        assert.deepEqual((await api.me(session.token)).body, { user: session.user });
        const refreshed = assertTokenResponse(await api.refresh(session.cookie), 200, session.username);
        await jwtVerify(refreshed.access_token, secretKey(SECRET_B), { algorithms: ['HS256'], issuer: 'hush', audience: 'hush' });
        await assert.rejects(jwtVerify(refreshed.access_token, secretKey(SECRET_A), { algorithms: ['HS256'] }), 'new tokens are signed under the new secret only');
        const stranger = forgeFrom(session.token, {}, 'a-secret-that-was-never-configured-0123456789');
        assertInvalidToken(await api.private(stranger));
      } finally {
        await second.close();
      }
      assertNoSecrets(second.output(), api.secrets);
    });
  });
}
