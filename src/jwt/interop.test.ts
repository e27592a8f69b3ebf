import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { ALGORITHM_NAMES, createSigner, createVerifier, exportJwk, generateKey, importJwk, importSecret, JwtError, KeySet } from './index.js';
import type { Algorithm, JwtKey } from './index.js';

/** Secret lengths: the hash output size, the minimum hush accepts. */
const SECRET_BYTES: Partial<Record<Algorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const now = Math.floor(Date.now() / 1000);
const claims = { iss: 'https://issuer.example', aud: ['api', 'other'], sub: 'user-1', iat: now, exp: now + 300, nested: { ok: true, list: [1, 'two'] } };

// One RSA key (2048 bits) per direction, shared by RS* and PS*, keeps the suite fast.
const hushRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
let joseRsa: JsonWebKey;

before(async () => {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  joseRsa = (await jose.exportJWK(privateKey)) as JsonWebKey;
});

function hushKey(alg: Algorithm): { key: JwtKey; secret?: Uint8Array } {
  const bytes = SECRET_BYTES[alg];
  if (bytes !== undefined) {
    const secret = randomBytes(bytes);
    return { key: importSecret(secret, alg as 'HS256', `hs-${alg}`), secret };
  }
  if (alg.startsWith('RS') || alg.startsWith('PS')) return { key: importJwk(hushRsa as JsonWebKey, { alg, kid: `rsa-${alg}` }) };
  return { key: generateKey(alg as Exclude<Algorithm, `HS${string}`>) };
}

describe('interop with jose, every algorithm', () => {
  for (const alg of ALGORITHM_NAMES) {
    it(`${alg}: a token signed by hush verifies in jose`, async () => {
      const { key, secret } = hushKey(alg);
      const token = createSigner({ key, typ: 'at+jwt' })(claims);
      const joseKey = secret ?? (await jose.importJWK(exportJwk(key), alg));
      const { payload, protectedHeader } = await jose.jwtVerify(token, joseKey, {
        algorithms: [alg],
        issuer: claims.iss,
        audience: 'api',
        typ: 'at+jwt',
      });
      assert.deepEqual(payload, claims);
      assert.deepEqual(protectedHeader, { alg, typ: 'at+jwt', kid: key.kid });
    });

    it(`${alg}: a token signed by jose verifies in hush`, async () => {
      let joseKey: jose.CryptoKey | Uint8Array;
      let key: JwtKey;
      const bytes = SECRET_BYTES[alg];
      if (bytes !== undefined) {
        const secret = randomBytes(bytes);
        joseKey = secret;
        key = importSecret(secret, alg as 'HS256', 'k1');
      } else if (alg.startsWith('RS') || alg.startsWith('PS')) {
        joseKey = await jose.importJWK(joseRsa, alg);
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = joseRsa;
        key = importJwk(publicJwk, { alg, kid: 'k1' });
      } else {
        const pair = await jose.generateKeyPair(alg, { extractable: true });
        joseKey = pair.privateKey;
        key = importJwk((await jose.exportJWK(pair.publicKey)) as JsonWebKey, { alg, kid: 'k1' });
      }
      const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, typ: 'application/at+jwt', kid: 'k1' }).sign(joseKey);
      const options = { keys: new KeySet([key]), algorithms: [alg], issuer: claims.iss, audience: 'api', typ: 'at+jwt' } as const;
      // jose does not normalise ECDSA's s (half its signatures are high), which hush refuses by default.
      const verify = createVerifier({ ...options, allowHighS: alg.startsWith('ES') });
      assert.deepEqual({ ...verify(token) }, claims);
    });
  }

  it('ES256: by default a jose token verifies in hush exactly when its s is low', async () => {
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const pair = await jose.generateKeyPair('ES256', { extractable: true });
    const key = importJwk((await jose.exportJWK(pair.publicKey)) as JsonWebKey, { alg: 'ES256', kid: 'k1' });
    const verify = createVerifier({ keys: key, algorithms: ['ES256'] });
    const seen = { low: 0, high: 0 };
    // Each signature is high with probability 1/2: 64 tries miss either form with probability 2^-63.
    for (let i = 0; i < 64 && (seen.low === 0 || seen.high === 0); i++) {
      const token = await new jose.SignJWT({ sub: 'x', i }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(pair.privateKey);
      const s = BigInt('0x' + Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url').toString('hex', 32));
      if (s <= n / 2n) {
        seen.low++;
        assert.equal(verify(token).sub, 'x');
      } else {
        seen.high++;
        assert.throws(() => verify(token), (error: unknown) => error instanceof JwtError && error.code === 'ERR_JWS_SIGNATURE_INVALID');
      }
    }
    assert.ok(seen.low > 0 && seen.high > 0);
  });

  it('a JWKS built by hush is read by jose createLocalJWKSet', async () => {
    const keys = new KeySet([generateKey('EdDSA'), generateKey('ES256'), importSecret(randomBytes(32), 'HS256', 'secret')]);
    const jwks = keys.toJwks();
    assert.equal(jwks.keys.length, 2, 'HMAC secrets are never published');
    const token = createSigner({ key: keys })({ sub: 'x' });
    const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks as jose.JSONWebKeySet));
    assert.equal(payload.sub, 'x');
  });
});
