import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKey, importSecret } from '../jwt/index.js';
import {
  createAuthenticator,
  GuardRejection,
  HushGuardOptionsError,
  resolveGuardOptions,
  type AccessClaims,
  type GuardOutcome,
  type HushGuardOptions,
  type HushUser,
} from './core.js';
import { EXPIRED_TOKEN, INVALID_TOKEN, KEYS_UNAVAILABLE, MISSING_TOKEN, REVOKED_TOKEN } from './rejections.js';
import { accessClaims, badTokens, hsKey, PREVIOUS_SECRET, SECRET, sign, startJwksServer } from './test-tokens.js';

const bearer = (token: string): string => `Bearer ${token}`;

function decide(options: HushGuardOptions, authorization: string | undefined): GuardOutcome {
  const outcome = createAuthenticator(options).authenticate(authorization);
  assert.ok(!(outcome instanceof Promise), 'a secret guard decides synchronously');
  return outcome;
}

function assertUser(outcome: GuardOutcome): HushUser {
  assert.ok(outcome !== null && !(outcome instanceof GuardRejection), `expected a user, got ${outcome instanceof GuardRejection ? outcome.description : 'null'}`);
  return outcome;
}

function optionsError(options: unknown, pattern: RegExp): void {
  assert.throws(
    () => createAuthenticator(options as HushGuardOptions),
    (error: unknown) => error instanceof HushGuardOptionsError && error.code === 'ERR_HUSH_GUARD_OPTIONS' && pattern.test(error.message),
  );
}

describe('guard options', () => {
  it('default to HS256, issuer and audience "hush", a second of leeway, the cache on, tokens required', () => {
    const resolved = resolveGuardOptions({ secret: SECRET });
    assert.deepEqual(resolved.algorithms, ['HS256']);
    assert.equal(resolved.issuer, 'hush');
    assert.equal(resolved.audience, 'hush');
    assert.equal(resolved.leeway, 1);
    assert.deepEqual(resolved.cache, { max: 10_000 });
    assert.equal(resolved.optional, false);
    assert.equal(resolved.keys?.length, 1);
  });

  it('default to EdDSA and ES256 with a JWKS URL', () => {
    assert.deepEqual(resolveGuardOptions({ jwksUrl: 'https://auth.example/.well-known/jwks.json' }).algorithms, ['EdDSA', 'ES256']);
  });

  it('need exactly one of secret and jwksUrl', () => {
    optionsError({}, /give secret .* or jwksUrl/);
    optionsError({ secret: SECRET, jwksUrl: 'https://auth.example/jwks' }, /not both/);
  });

  it('say so when the secret is undefined, as when HUSH_SECRET is not set', () => {
    optionsError({ secret: undefined }, /secret is undefined .*HUSH_SECRET/);
  });

  it('say where the server keeps the secret it generated when none is given ($HUSH_DATA_DIR/secrets.json, its "secret" value)', () => {
    optionsError({ secret: undefined }, /generates its secret on first start and keeps it in \$HUSH_DATA_DIR\/secrets\.json .*"secret" value as HUSH_SECRET/);
    optionsError({}, /the "secret" value of its \$HUSH_DATA_DIR\/secrets\.json/);
  });

  it('refuse a secret shorter than 32 bytes without repeating it', () => {
    const short = 'short-secret-value';
    assert.throws(
      () => createAuthenticator({ secret: short }),
      (error: unknown) => error instanceof HushGuardOptionsError && /at least 32 bytes/.test(error.message) && !error.message.includes(short),
    );
    optionsError({ secret: [SECRET, short] }, /secret\[1\] is too short/);
  });

  it('refuse secrets that are not strings, and an empty list', () => {
    optionsError({ secret: 42 }, /secret must be a string/);
    optionsError({ secret: [] }, /empty array/);
    optionsError({ secret: [SECRET, Buffer.from(SECRET)] }, /secret\[1\] must be a string/);
  });

  it('refuse unknown option names, so a misspelling cannot turn a check off', () => {
    optionsError({ secret: SECRET, audiance: 'hush' }, /unknown option "audiance"/);
  });

  it('bind algorithms to the kind of key', () => {
    optionsError({ secret: SECRET, algorithms: ['EdDSA'] }, /EdDSA needs jwksUrl/);
    optionsError({ jwksUrl: 'https://auth.example/jwks', algorithms: ['HS256'] }, /HS256 needs secret/);
    optionsError({ secret: SECRET, algorithms: ['none'] }, /unknown algorithm/);
    optionsError({ secret: SECRET, algorithms: [] }, /non-empty array/);
  });

  it('check every other option', () => {
    optionsError({ secret: SECRET, issuer: '' }, /issuer/);
    optionsError({ secret: SECRET, audience: [] }, /audience/);
    optionsError({ secret: SECRET, leeway: 61 }, /leeway/);
    optionsError({ secret: SECRET, leeway: -1 }, /leeway/);
    optionsError({ secret: SECRET, cache: { max: 0 } }, /cache/);
    optionsError({ secret: SECRET, cache: 'yes' }, /cache/);
    optionsError({ secret: SECRET, revocations: {} }, /revocations/);
    optionsError({ secret: SECRET, optional: 'yes' }, /optional/);
    optionsError({ jwksUrl: 42 }, /jwksUrl must be/);
    optionsError(null, /options must be an object/);
  });

  it('refuse a JWKS URL that is plain http off loopback', () => {
    optionsError({ jwksUrl: 'http://auth.example/.well-known/jwks.json' }, /https/);
    optionsError({ jwksUrl: 'not a url' }, /invalid/);
  });
});

describe('a guard with the shared secret', () => {
  const key = hsKey();

  it('accepts a valid access token and puts its user on the request', () => {
    const claims = accessClaims({ roles: ['admin'] });
    const user = assertUser(decide({ secret: SECRET }, bearer(sign(key, claims))));
    assert.equal(user.id, claims['sub']);
    assert.equal(user.username, 'ada');
    assert.deepEqual(user.claims['roles'], ['admin']);
    assert.equal(user.claims.sid, claims['sid']);
    assert.ok(Object.isFrozen(user.claims), 'claims are frozen');
  });

  it('accepts the scheme in any case', () => {
    assertUser(decide({ secret: SECRET }, `bearer ${sign(key)}`));
  });

  it('accepts an aud array that contains the audience', () => {
    assertUser(decide({ secret: SECRET }, bearer(sign(key, accessClaims({ aud: ['billing', 'hush'] })))));
  });

  for (const [name, token] of Object.entries(badTokens(key))) {
    it(`refuses a token that is ${name} with 401 invalid_token`, () => {
      const outcome = decide({ secret: SECRET }, bearer(token));
      assert.equal(outcome, name === 'expired' ? EXPIRED_TOKEN : INVALID_TOKEN);
    });
  }

  it('answers missing_token when there is no Bearer token', () => {
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b']) {
      assert.equal(decide({ secret: SECRET }, header), MISSING_TOKEN, String(header));
    }
  });

  it('with optional, lets a request without a token through anonymously but still refuses a bad one', () => {
    assert.equal(decide({ secret: SECRET, optional: true }, undefined), null);
    assert.equal(decide({ secret: SECRET, optional: true }, 'Basic dXNlcjpwYXNz'), null);
    assert.equal(decide({ secret: SECRET, optional: true }, bearer(badTokens(key)['tampered']!)), INVALID_TOKEN);
  });

  it('accepts tokens signed with a previous secret only when it is listed after the current one', () => {
    const old = sign(importSecret(PREVIOUS_SECRET));
    assert.equal(decide({ secret: SECRET }, bearer(old)), INVALID_TOKEN);
    assertUser(decide({ secret: [SECRET, PREVIOUS_SECRET] }, bearer(old)));
    assertUser(decide({ secret: [SECRET, PREVIOUS_SECRET] }, bearer(sign(key))));
  });

  it('checks the configured issuer and audience instead of the defaults', () => {
    const options = { secret: SECRET, issuer: 'https://auth.example', audience: ['orders', 'billing'] };
    assertUser(decide(options, bearer(sign(key, accessClaims({ iss: 'https://auth.example', aud: 'billing' })))));
    assert.equal(decide(options, bearer(sign(key))), INVALID_TOKEN);
  });

  it('accepts a token issued up to a second "in the future", as from a server whose clock is slightly ahead', () => {
    const now = Math.floor(Date.now() / 1000);
    assertUser(decide({ secret: SECRET }, bearer(sign(key, accessClaims({ iat: now + 1, exp: now + 601 })))));
    assert.equal(decide({ secret: SECRET }, bearer(sign(key, accessClaims({ iat: now + 5, exp: now + 605 })))), INVALID_TOKEN);
    assert.equal(decide({ secret: SECRET, leeway: 0 }, bearer(sign(key, accessClaims({ iat: now + 2, exp: now + 602 })))), INVALID_TOKEN);
  });

  it('tolerates clock skew up to the leeway', () => {
    const now = Math.floor(Date.now() / 1000);
    const lately = bearer(sign(key, accessClaims({ iat: now - 620, exp: now - 20 })));
    assert.equal(decide({ secret: SECRET }, lately), EXPIRED_TOKEN);
    assertUser(decide({ secret: SECRET, leeway: 30 }, lately));
  });

  it('serves a repeated token from the cache (the same frozen claims) and verifies afresh without it', () => {
    const header = bearer(sign(key));
    const cached = createAuthenticator({ secret: SECRET });
    const first = assertUser(cached.authenticate(header) as GuardOutcome);
    const second = assertUser(cached.authenticate(header) as GuardOutcome);
    assert.equal(first.claims, second.claims);
    const uncached = createAuthenticator({ secret: SECRET, cache: false });
    const a = assertUser(uncached.authenticate(header) as GuardOutcome);
    const b = assertUser(uncached.authenticate(header) as GuardOutcome);
    assert.notEqual(a.claims, b.claims);
    assert.deepEqual(a.claims, b.claims);
  });

  it('stops accepting a cached token once it expires', async () => {
    const guard = createAuthenticator({ secret: SECRET });
    const exp = Math.floor(Date.now() / 1000) + 1;
    const header = bearer(sign(key, accessClaims({ iat: exp - 60, exp })));
    assertUser(guard.authenticate(header) as GuardOutcome);
    // Past exp plus the default second of leeway.
    await sleep((exp + 1) * 1000 - Date.now() + 50);
    assert.equal(guard.authenticate(header), EXPIRED_TOKEN);
  });

  it('asks the revocations hook about every verified token, cache hits included', () => {
    const seen: Readonly<AccessClaims>[] = [];
    const revoked = new Set<string>();
    const guard = createAuthenticator({
      secret: SECRET,
      revocations: {
        isRevoked(claims) {
          seen.push(claims);
          return revoked.has(claims.sid);
        },
      },
    });
    const claims = accessClaims();
    const header = bearer(sign(key, claims));
    assertUser(guard.authenticate(header) as GuardOutcome);
    assertUser(guard.authenticate(header) as GuardOutcome);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.sid, claims['sid']);
    revoked.add(claims['sid'] as string);
    assert.equal(guard.authenticate(header), REVOKED_TOKEN);
    assert.equal(guard.authenticate(bearer(badTokens(key)['tampered']!)), INVALID_TOKEN);
    assert.equal(seen.length, 3, 'never asked about a token that did not verify');
  });

  it('lets an error of the revocations hook propagate rather than answer for it', () => {
    const guard = createAuthenticator({ secret: SECRET, revocations: { isRevoked: () => { throw new Error('feed broken'); } } });
    assert.throws(() => guard.authenticate(bearer(sign(key))), /feed broken/);
  });
});

describe('the answers a guard gives', () => {
  it('are RFC 6750 challenges with the contract\'s JSON body', () => {
    assert.equal(MISSING_TOKEN.status, 401);
    assert.equal(MISSING_TOKEN.headers['www-authenticate'], 'Bearer realm="hush"');
    assert.deepEqual(JSON.parse(MISSING_TOKEN.body), { error: 'missing_token', error_description: 'An access token is required.' });
    for (const rejection of [INVALID_TOKEN, EXPIRED_TOKEN, REVOKED_TOKEN]) {
      assert.equal(rejection.status, 401);
      assert.equal(rejection.headers['www-authenticate'], 'Bearer realm="hush", error="invalid_token"');
      assert.equal(JSON.parse(rejection.body).error, 'invalid_token');
      assert.equal(rejection.headers['content-type'], 'application/json; charset=utf-8');
    }
    assert.equal(KEYS_UNAVAILABLE.status, 503);
    assert.equal(KEYS_UNAVAILABLE.headers['retry-after'], '5');
    assert.equal(JSON.parse(KEYS_UNAVAILABLE.body).error, 'unavailable');
  });

  it('are frozen, so no request can alter another\'s answer', () => {
    assert.ok(Object.isFrozen(INVALID_TOKEN) && Object.isFrozen(INVALID_TOKEN.headers));
  });
});

describe('a guard with a JWKS URL', () => {
  const ed = generateKey('EdDSA');
  const es = generateKey('ES256');
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;

  before(async () => {
    jwks = await startJwksServer([ed, es]);
  });
  after(() => jwks.close());

  it('accepts EdDSA and ES256 tokens whose key the JWKS publishes', async () => {
    const guard = createAuthenticator({ jwksUrl: jwks.url });
    for (const key of [ed, es]) {
      const outcome = guard.authenticate(bearer(sign(key)));
      assert.ok(outcome instanceof Promise);
      assertUser(await outcome);
    }
  });

  for (const [name, token] of Object.entries(badTokens(ed))) {
    it(`refuses a token that is ${name}`, async () => {
      const guard = createAuthenticator({ jwksUrl: jwks.url });
      assert.equal(await guard.authenticate(bearer(token)), name === 'expired' ? EXPIRED_TOKEN : INVALID_TOKEN);
    });
  }

  it('refuses an HS256 token, whatever secret signed it', async () => {
    const guard = createAuthenticator({ jwksUrl: jwks.url });
    assert.equal(await guard.authenticate(bearer(sign(hsKey()))), INVALID_TOKEN);
  });

  it('fetches the JWKS once for many tokens', async () => {
    const server = await startJwksServer([ed]);
    try {
      const guard = createAuthenticator({ jwksUrl: server.url });
      await Promise.all([1, 2, 3].map(async () => assertUser(await guard.authenticate(bearer(sign(ed))))));
      assertUser(await guard.authenticate(bearer(sign(ed))));
      assert.equal(server.fetches(), 1);
    } finally {
      await server.close();
    }
  });

  it('answers 503 unavailable while the JWKS cannot be fetched and no key is known', async () => {
    const server = await startJwksServer([ed]);
    server.down();
    try {
      const guard = createAuthenticator({ jwksUrl: server.url });
      assert.equal(await guard.authenticate(bearer(sign(ed))), KEYS_UNAVAILABLE);
    } finally {
      await server.close();
    }
    const unreachable = createAuthenticator({ jwksUrl: server.url });
    assert.equal(await unreachable.authenticate(bearer(sign(ed))), KEYS_UNAVAILABLE);
  });

  it('keeps answering from known keys when a later fetch fails', async () => {
    const server = await startJwksServer([ed]);
    try {
      const guard = createAuthenticator({ jwksUrl: server.url });
      assertUser(await guard.authenticate(bearer(sign(ed))));
      server.down();
      assertUser(await guard.authenticate(bearer(sign(ed))));
    } finally {
      await server.close();
    }
  });
});
