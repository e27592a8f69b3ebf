import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createSigner,
  createVerifier,
  generateKey,
  importSecret,
  JwksKeyNotFoundError,
  JwsSignatureInvalidError,
  JwtClaimInvalidError,
  JwtExpiredError,
  JwtNotYetValidError,
  JwtOptionsError,
  KeySet,
  publicKey,
} from './index.js';

const T = 1_700_000_000;
let nowMs = T * 1000;
const clock = (): number => nowMs;
const key = importSecret('v'.repeat(32), 'HS256', 'k1');
const sign = createSigner({ key, typ: 'at+jwt' });
const claims = { iss: 'hush', aud: 'hush', sub: 'u1', iat: T, exp: T + 60 };

function claimError(fn: () => unknown, claim: string, reason: string): void {
  assert.throws(fn, (error: unknown) => error instanceof JwtClaimInvalidError && error.claim === claim && error.reason === reason);
}

describe('createVerifier options are checked once, at creation', () => {
  const base = { keys: key, algorithms: ['HS256'] } as const;
  const bad: Array<[string, Record<string, unknown>]> = [
    ['empty algorithms', { algorithms: [] }],
    ['an unknown algorithm', { algorithms: ['none'] }],
    ['an algorithm no key serves', { algorithms: ['HS256', 'EdDSA'] }],
    ['leeway above 60 s', { leeway: 61 }],
    ['negative leeway', { leeway: -1 }],
    ['a misspelt option', { audiance: 'hush' }],
    ['an empty issuer', { issuer: '' }],
    ['an empty audience list', { audience: [] }],
    ['a non-positive maxTokenAge', { maxTokenAge: 0 }],
    ['a tiny maxTokenLength', { maxTokenLength: 3 }],
    ['a zero cache size', { cache: { max: 0 } }],
    ['a non-function clock', { clock: 5 }],
    ['an empty typ', { typ: '' }],
  ];
  for (const [name, extra] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => createVerifier({ ...base, ...extra } as never), (e: unknown) => e instanceof Error && 'code' in e);
    });
  }
  it('refuses to verify when the clock returns a non-finite time (nothing would ever expire)', () => {
    const verify = createVerifier({ ...base, clock: () => Number.NaN });
    assert.throws(() => verify(sign(claims)), JwtOptionsError);
  });
  it('throws JwtOptionsError with a clear message', () => {
    assert.throws(() => createVerifier({ ...base, leeway: 90 }), (e: unknown) => e instanceof JwtOptionsError && /leeway/.test(e.message));
  });
});

describe('claims', () => {
  const verify = createVerifier({ keys: key, algorithms: ['HS256'], issuer: 'hush', audience: ['api', 'hush'], typ: 'at+jwt', clock });

  it('returns the deep-frozen payload', () => {
    nowMs = T * 1000;
    const payload = verify(sign({ ...claims, roles: ['a'] }));
    assert.equal(payload.sub, 'u1');
    assert.ok(Object.isFrozen(payload));
    assert.ok(Object.isFrozen(payload['roles']));
  });

  it('exp: valid strictly before exp, with leeway', () => {
    const token = sign(claims);
    nowMs = (T + 59.999) * 1000;
    verify(token);
    nowMs = (T + 60) * 1000;
    assert.throws(() => verify(token), JwtExpiredError);
    const lenient = createVerifier({ keys: key, algorithms: ['HS256'], leeway: 30, clock });
    nowMs = (T + 89) * 1000;
    lenient(token);
    nowMs = (T + 90) * 1000;
    assert.throws(() => lenient(token), JwtExpiredError);
  });

  it('nbf: not valid before nbf, with leeway', () => {
    const token = sign({ ...claims, nbf: T + 10 });
    nowMs = (T + 9) * 1000;
    assert.throws(() => verify(token), JwtNotYetValidError);
    nowMs = (T + 10) * 1000;
    verify(token);
  });

  it('iss, aud and sub must match exactly; aud may be an array containing one of the audiences', () => {
    nowMs = T * 1000;
    claimError(() => verify(sign({ ...claims, iss: 'Hush' })), 'iss', 'mismatch');
    claimError(() => verify(sign({ ...claims, iss: undefined })), 'iss', 'missing');
    verify(sign({ ...claims, aud: 'api' }));
    verify(sign({ ...claims, aud: ['x', 'api'] }));
    claimError(() => verify(sign({ ...claims, aud: [] })), 'aud', 'mismatch');
    const bySubject = createVerifier({ keys: key, algorithms: ['HS256'], subject: 'u1', clock });
    bySubject(sign(claims));
    claimError(() => bySubject(sign({ ...claims, sub: 'u2' })), 'sub', 'mismatch');
    claimError(() => bySubject(sign({ ...claims, sub: 7 })), 'sub', 'invalid');
  });

  it('typ compares case-insensitively and accepts the application/ prefix', () => {
    nowMs = T * 1000;
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+JWT']) verify(createSigner({ key, typ })(claims));
    claimError(() => verify(createSigner({ key, typ: 'JWT' })(claims)), 'typ', 'mismatch');
    claimError(() => verify(createSigner({ key, typ: 'x/at+jwt' })(claims)), 'typ', 'mismatch');
  });

  it('requiredClaims uses own properties only', () => {
    nowMs = T * 1000;
    const strict = createVerifier({ keys: key, algorithms: ['HS256'], requiredClaims: ['exp', 'jti'], clock });
    claimError(() => strict(sign(claims)), 'jti', 'missing');
    strict(sign({ ...claims, jti: 'j' }));
    claimError(() => strict(sign({ sub: 'x', jti: 'j' })), 'exp', 'missing');
  });

  it('maxTokenAge needs iat and refuses old or future ones', () => {
    const aged = createVerifier({ keys: key, algorithms: ['HS256'], maxTokenAge: 30, clock });
    nowMs = (T + 30) * 1000;
    aged(sign(claims));
    nowMs = (T + 31) * 1000;
    claimError(() => aged(sign(claims)), 'iat', 'too_old');
    claimError(() => aged(sign({ exp: T + 60 })), 'iat', 'missing');
    nowMs = T * 1000;
    claimError(() => aged(sign({ ...claims, iat: T + 5 })), 'iat', 'invalid');
  });

  it('checks the signature before any claim', () => {
    nowMs = (T + 1000) * 1000;
    const token = sign({ ...claims, iss: 'wrong' });
    const at = token.length - 5;
    const forged = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    assert.throws(() => verify(forged), JwsSignatureInvalidError, 'expired and wrong iss, but the signature fails first');
    assert.throws(() => verify(token), JwtExpiredError);
  });
});

describe('keys and rotation', () => {
  it('verifies tokens of every key of a KeySet and finds them by kid', () => {
    nowMs = T * 1000;
    const older = importSecret('o'.repeat(32), 'HS256', 'old');
    const set = new KeySet([key, older]);
    const verify = createVerifier({ keys: set, algorithms: ['HS256'], clock });
    assert.equal(verify(createSigner({ key: older })(claims)).sub, 'u1');
    assert.equal(verify(createSigner({ key: set })(claims)).sub, 'u1');
  });

  it('tries every key of the algorithm for a token without kid (secret rotation without kids)', () => {
    nowMs = T * 1000;
    const a = importSecret('a'.repeat(32));
    const b = importSecret('b'.repeat(32));
    const verify = createVerifier({ keys: [a, b], algorithms: ['HS256'], clock });
    verify(createSigner({ key: a })(claims));
    verify(createSigner({ key: b })(claims));
    assert.throws(() => verify(createSigner({ key: importSecret('c'.repeat(32)) })(claims)), JwsSignatureInvalidError);
  });

  it('refuses an unknown kid', () => {
    nowMs = T * 1000;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], clock });
    assert.throws(() => verify(createSigner({ key: importSecret('z'.repeat(32), 'HS256', 'zz') })(claims)), JwksKeyNotFoundError);
  });

  it('verifies asymmetric tokens with the public half', () => {
    nowMs = T * 1000;
    const priv = generateKey('ES384');
    const verify = createVerifier({ keys: publicKey(priv), algorithms: ['ES384'], clock });
    assert.equal(verify(createSigner({ key: priv })(claims)).sub, 'u1');
  });
});

describe('the verified-token cache', () => {
  it("is never fooled by a forged token that borrows a cached token's signature", () => {
    nowMs = T * 1000;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: { max: 10 }, clock });
    const token = sign(claims);
    verify(token);
    const [header, , signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    assert.throws(() => verify(`${header}.${forgedPayload}.${signature}`), JwsSignatureInvalidError);
    assert.equal(verify(token).sub, 'u1', 'and the real token still verifies from the cache');
  });

  it('returns the same frozen object on a hit', () => {
    nowMs = T * 1000;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: { max: 10 }, clock });
    const token = sign(claims);
    const first = verify(token);
    assert.equal(verify(Buffer.from(token).toString()), first);
  });

  it('re-checks exp and nbf against the clock on every hit', () => {
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: {}, clock });
    const token = sign({ ...claims, nbf: T });
    nowMs = T * 1000;
    verify(token);
    nowMs = (T + 60) * 1000;
    assert.throws(() => verify(token), JwtExpiredError);
    nowMs = (T - 1) * 1000;
    assert.throws(() => verify(token), JwtNotYetValidError);
  });

  it('refuses an iat in the future beyond the leeway, on a hit too', () => {
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: {}, leeway: 5, clock });
    const token = sign({ ...claims, iat: T + 5 });
    nowMs = T * 1000;
    verify(token);
    nowMs = (T - 1) * 1000;
    claimError(() => verify(token), 'iat', 'invalid');
  });

  it('re-checks maxTokenAge on every hit', () => {
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: {}, maxTokenAge: 10, clock });
    const token = sign({ ...claims, exp: T + 600 });
    nowMs = T * 1000;
    verify(token);
    nowMs = (T + 11) * 1000;
    claimError(() => verify(token), 'iat', 'too_old');
  });

  it('is keyed on the exact token: a different spelling is verified from scratch', () => {
    nowMs = T * 1000;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: {}, clock });
    const token = sign(claims);
    verify(token);
    assert.throws(() => verify(`${token}=`), { code: 'ERR_JWT_MALFORMED' });
    assert.throws(() => verify(` ${token}`), { code: 'ERR_JWT_MALFORMED' });
  });

  it('is bounded and evicts the least recently used token', () => {
    nowMs = T * 1000;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: { max: 2 }, clock });
    const [a, b, c] = ['a', 'b', 'c'].map((jti) => sign({ ...claims, jti }));
    const pa = verify(a!);
    const pb = verify(b!);
    assert.equal(verify(a!), pa, 'a is now the most recent');
    verify(c!);
    assert.equal(verify(a!), pa, 'a survived');
    assert.notEqual(verify(b!), pb, 'b was evicted and verified again');
  });

  it('is emptied by clearCache', () => {
    nowMs = T * 1000;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: {}, clock });
    const token = sign(claims);
    const first = verify(token);
    verify.clearCache();
    assert.notEqual(verify(token), first);
  });

  it('never caches a failure', () => {
    nowMs = (T + 100) * 1000;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], cache: {}, clock });
    const token = sign(claims);
    assert.throws(() => verify(token), JwtExpiredError);
    nowMs = T * 1000;
    assert.equal(verify(token).sub, 'u1');
  });
});
