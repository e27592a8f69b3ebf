import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { exportJwk, generateKey, importJwk, importSecret, JwtKeyError, publicKey, thumbprint } from './index.js';
import { assertJwtKey } from './keys.js';

describe('importSecret', () => {
  it('takes a string as its UTF-8 bytes and binds the algorithm', () => {
    const key = importSecret('é'.repeat(16), 'HS256', 'k');
    assert.equal(key.key.symmetricKeySize, 32);
    assert.deepEqual([key.alg, key.kid], ['HS256', 'k']);
    assert.ok(Object.isFrozen(key));
  });

  it('refuses secrets shorter than the hash output', () => {
    assert.throws(() => importSecret('x'.repeat(31)), JwtKeyError);
    assert.throws(() => importSecret(new Uint8Array(47), 'HS384'), JwtKeyError);
    assert.throws(() => importSecret(new Uint8Array(63), 'HS512'), JwtKeyError);
    assert.throws(() => importSecret(''), { code: 'ERR_JWT_KEY_INVALID' });
    importSecret(new Uint8Array(64), 'HS512');
  });

  it('refuses a non-HMAC algorithm', () => {
    assert.throws(() => importSecret('x'.repeat(64), 'RS256' as 'HS256'), JwtKeyError);
  });
});

describe('generateKey', () => {
  it('makes a private key of the right type, with the RFC 7638 thumbprint as kid', () => {
    for (const [alg, type] of [['EdDSA', 'ed25519'], ['ES256', 'ec'], ['ES384', 'ec'], ['ES512', 'ec']] as const) {
      const key = generateKey(alg);
      assert.equal(key.key.type, 'private');
      assert.equal(key.key.asymmetricKeyType, type);
      assert.equal(key.kid, thumbprint(key.key));
    }
    assert.equal(generateKey('EdDSA', { kid: 'mine' }).kid, 'mine');
  });
});

describe('the algorithm is bound to the key type, never guessed', () => {
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ed448 = generateKeyPairSync('ed448');
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cases = [
    ['HS256 with an RSA public key', { alg: 'HS256', key: p256.publicKey }],
    ['RS256 with a secret', { alg: 'RS256', key: createSecretKey(Buffer.alloc(64)) }],
    ['RS256 with a 1024-bit key', { alg: 'RS256', key: rsa1024.publicKey }],
    ['PS256 with a 1024-bit key', { alg: 'PS256', key: rsa1024.privateKey }],
    ['ES384 with a P-256 key', { alg: 'ES384', key: p256.publicKey }],
    ['EdDSA with Ed448', { alg: 'EdDSA', key: ed448.publicKey }],
    ['EdDSA with an EC key', { alg: 'EdDSA', key: p256.publicKey }],
    ['an unknown algorithm', { alg: 'none', key: createSecretKey(Buffer.alloc(64)) }],
  ] as const;
  for (const [name, key] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(() => assertJwtKey(key as never), JwtKeyError);
    });
  }
});

describe('importJwk / exportJwk', () => {
  it('needs an algorithm from the JWK or the options, and they must agree', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    assert.throws(() => importJwk(jwk), JwtKeyError);
    assert.equal(importJwk(jwk, { alg: 'ES256' }).alg, 'ES256');
    assert.equal(importJwk({ ...jwk, alg: 'ES256' }).alg, 'ES256');
    assert.throws(() => importJwk({ ...jwk, alg: 'ES256' }, { alg: 'ES384' }), JwtKeyError);
    assert.throws(() => importJwk(jwk, { alg: 'ES384' }), JwtKeyError, 'curve does not fit');
    assert.throws(() => importJwk(jwk, { alg: 'RS256' }), JwtKeyError, 'type does not fit');
  });

  it('refuses encryption keys, keys whose key_ops exclude signing, and short or non-canonical secrets', () => {
    const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    assert.throws(() => importJwk({ ...jwk, use: 'enc' }, { alg: 'EdDSA' }), JwtKeyError);
    assert.throws(() => importJwk({ ...jwk, key_ops: ['encrypt'] }, { alg: 'EdDSA' }), JwtKeyError);
    assert.throws(() => importJwk({ kty: 'oct', k: Buffer.alloc(31).toString('base64url') }, { alg: 'HS256' }), JwtKeyError);
    assert.throws(() => importJwk({ kty: 'oct', k: `${Buffer.alloc(32).toString('base64url')}=` }, { alg: 'HS256' }), JwtKeyError);
    assert.throws(() => importJwk({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, { alg: 'ES256' }), JwtKeyError);
  });

  it('exports public keys only by default, with kid, alg and use', () => {
    const key = generateKey('ES256', { kid: 'k1' });
    const jwk = exportJwk(key);
    assert.equal(jwk.d, undefined);
    assert.deepEqual([jwk.kid, jwk.alg, jwk.use, jwk.crv], ['k1', 'ES256', 'sig', 'P-256']);
    assert.equal(typeof exportJwk(key, { private: true }).d, 'string');
    assert.equal(importJwk(jwk).kid, 'k1');
  });

  it('never exports a secret unless asked explicitly', () => {
    const key = importSecret('s'.repeat(32));
    assert.throws(() => exportJwk(key), JwtKeyError);
    const jwk = exportJwk(key, { private: true });
    assert.equal(Buffer.from(jwk.k!, 'base64url').toString(), 's'.repeat(32));
    assert.equal(jwk.kid, thumbprint(key.key));
  });

  it('round-trips every asymmetric algorithm through JWK', () => {
    for (const alg of ['EdDSA', 'ES256', 'ES384', 'ES512', 'PS256'] as const) {
      const key = generateKey(alg);
      const back = importJwk(exportJwk(key, { private: true }));
      assert.equal(back.alg, alg);
      assert.equal(back.kid, key.kid);
      assert.ok(back.key.equals(key.key));
    }
  });
});

describe('publicKey', () => {
  it('returns the public half with the same alg and kid', () => {
    const key = generateKey('EdDSA');
    const pub = publicKey(key);
    assert.equal(pub.key.type, 'public');
    assert.deepEqual([pub.alg, pub.kid], [key.alg, key.kid]);
    assert.equal(publicKey(pub), pub);
    assert.throws(() => publicKey(importSecret('s'.repeat(32))), JwtKeyError);
  });
});
