import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSigner, decode, generateKey, importSecret, JwtClaimInvalidError, JwtKeyError, JwtMalformedError, JwtOptionsError, KeySet, publicKey } from './index.js';

const secret = 's'.repeat(32);
const key = importSecret(secret, 'HS256', 'k1');

describe('createSigner', () => {
  it('writes alg, typ (default JWT) and kid in that order, and a standard HMAC', () => {
    const token = createSigner({ key })({ sub: 'x' });
    const [h, p, s] = token.split('.') as [string, string, string];
    assert.equal(Buffer.from(h, 'base64url').toString(), '{"alg":"HS256","typ":"JWT","kid":"k1"}');
    assert.equal(Buffer.from(p, 'base64url').toString(), '{"sub":"x"}');
    assert.equal(s, createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url'));
  });

  it('matches createHmac for every HMAC size and for long, non-ASCII payloads', () => {
    for (const [alg, hash, bytes] of [['HS256', 'sha256', 32], ['HS384', 'sha384', 48], ['HS512', 'sha512', 64], ['HS256', 'sha256', 200]] as const) {
      const raw = Buffer.alloc(bytes, 7);
      const token = createSigner({ key: importSecret(raw, alg) })({ text: 'ünïcødé 🎉'.repeat(2000) });
      const dot = token.lastIndexOf('.');
      assert.equal(token.slice(dot + 1), createHmac(hash, raw).update(token.slice(0, dot)).digest('base64url'));
    }
  });

  it('omits kid when asked, and signs with the active key of a KeySet', () => {
    assert.deepEqual(decode(createSigner({ key, kid: false, typ: 'at+jwt' })({})).header, { alg: 'HS256', typ: 'at+jwt' });
    const set = new KeySet([key, importSecret('t'.repeat(32), 'HS256', 'k2')], { activeKid: 'k2' });
    assert.equal(decode(createSigner({ key: set })({})).header['kid'], 'k2');
  });

  it('refuses public keys, unknown options and non-object payloads', () => {
    assert.throws(() => createSigner({ key: publicKey(generateKey('EdDSA')) }), JwtKeyError);
    assert.throws(() => createSigner({ key, algorithm: 'HS256' } as never), JwtOptionsError);
    const sign = createSigner({ key });
    for (const bad of [null, [], 'x', 1]) assert.throws(() => sign(bad as never), JwtMalformedError);
  });

  it('refuses time claims that JSON cannot carry as finite numbers', () => {
    const sign = createSigner({ key });
    assert.throws(() => sign({ exp: Infinity }), JwtClaimInvalidError);
    assert.throws(() => sign({ nbf: Number.NaN }), JwtClaimInvalidError);
    assert.throws(() => sign({ iat: '1' }), JwtClaimInvalidError);
  });
});
