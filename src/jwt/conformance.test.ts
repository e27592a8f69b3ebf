import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createVerifier,
  decode,
  importJwk,
  JwsAlgorithmNotAllowedError,
  JwsSignatureInvalidError,
  JwtExpiredError,
  JwtMalformedError,
  signJws,
  thumbprint,
  verifyJws,
} from './index.js';
import { primitiveFor } from './primitives.js';
import {
  RFC7515_A1,
  RFC7515_A2,
  RFC7515_A3,
  RFC7515_A4,
  RFC7515_A5,
  RFC7515_CLAIMS_B64,
  RFC7515_EXP,
  RFC7520_4_1,
  RFC7520_4_2,
  RFC7520_4_3,
  RFC7520_4_4,
  RFC7520_EC_PUBLIC,
  RFC7520_OCT,
  RFC7520_PAYLOAD_TEXT,
  RFC7520_RSA_PRIVATE,
  RFC7520_RSA_PUBLIC,
  RFC7638,
  RFC8037_A4,
  RFC8037_KEY,
} from './vectors/rfc.js';

/** A clock one second before the RFC 7515 payload's `exp`. */
const beforeExp = (): number => (RFC7515_EXP - 1) * 1000;
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const RFC7515_CLAIMS = { iss: 'joe', exp: RFC7515_EXP, 'http://example.com/is_root': true };

describe('RFC 7515 Appendix A', () => {
  it('A.1 HS256: MACs the received header bytes (CRLF and all) to the published signature', () => {
    const key = importJwk(RFC7515_A1.jwk, { alg: 'HS256' });
    const input = `${RFC7515_A1.header}.${RFC7515_CLAIMS_B64}`;
    assert.equal(primitiveFor(key).sign(input, input.length), RFC7515_A1.signature);
  });

  it('A.1 HS256: verifies as a JWT with the clock pinned before exp, and is expired after it', () => {
    const key = importJwk(RFC7515_A1.jwk, { alg: 'HS256' });
    const token = `${RFC7515_A1.header}.${RFC7515_CLAIMS_B64}.${RFC7515_A1.signature}`;
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], issuer: 'joe', typ: 'JWT', clock: beforeExp });
    assert.deepEqual({ ...verify(token) }, RFC7515_CLAIMS);
    const late = createVerifier({ keys: key, algorithms: ['HS256'], clock: () => RFC7515_EXP * 1000 });
    assert.throws(() => late(token), JwtExpiredError);
    assert.deepEqual(decode(token).header, { typ: 'JWT', alg: 'HS256' });
  });

  it('A.2 RS256: verifies the published token', () => {
    const key = importJwk(RFC7515_A2.jwk, { alg: 'RS256' });
    const token = `${RFC7515_A2.header}.${RFC7515_CLAIMS_B64}.${RFC7515_A2.signature}`;
    const verify = createVerifier({ keys: key, algorithms: ['RS256'], clock: beforeExp });
    assert.deepEqual({ ...verify(token) }, RFC7515_CLAIMS);
  });

  it('A.3 ES256: verifies the published token with allowHighS; by default its high s is refused', () => {
    const key = importJwk(RFC7515_A3.jwk, { alg: 'ES256' });
    const token = `${RFC7515_A3.header}.${RFC7515_CLAIMS_B64}.${RFC7515_A3.signature}`;
    const verify = createVerifier({ keys: key, algorithms: ['ES256'], clock: beforeExp, allowHighS: true });
    assert.deepEqual({ ...verify(token) }, RFC7515_CLAIMS);
    const strict = createVerifier({ keys: key, algorithms: ['ES256'], clock: beforeExp });
    assert.throws(() => strict(token), JwsSignatureInvalidError);
  });

  it('A.4 ES512: verifies the published JWS; its plain-text payload is not a JWT', () => {
    const key = importJwk(RFC7515_A4.jwk, { alg: 'ES512' });
    const token = `${RFC7515_A4.header}.${RFC7515_A4.payload}.${RFC7515_A4.signature}`;
    const { header, payload } = verifyJws(token, { keys: key, algorithms: ['ES512'] });
    assert.deepEqual(header, { alg: 'ES512' });
    assert.equal(text(payload), 'Payload');
    const verify = createVerifier({ keys: key, algorithms: ['ES512'] });
    assert.throws(() => verify(token), JwtMalformedError);
  });

  it('A.5 unsecured JWS: rejected, since alg "none" does not exist', () => {
    const key = importJwk(RFC7515_A1.jwk, { alg: 'HS256' });
    const verify = createVerifier({ keys: key, algorithms: ['HS256'], clock: beforeExp });
    assert.throws(() => verify(RFC7515_A5), JwsAlgorithmNotAllowedError);
    assert.throws(() => verifyJws(RFC7515_A5, { keys: key, algorithms: ['HS256'] }), JwsAlgorithmNotAllowedError);
    assert.equal(decode(RFC7515_A5).header['alg'], 'none', 'decode still shows it for inspection');
  });
});

describe('RFC 7520 §4 (JOSE cookbook signatures)', () => {
  it('4.1 RS256: signs byte-exactly (PKCS#1 v1.5 is deterministic) and verifies', () => {
    const privateKey = importJwk(RFC7520_RSA_PRIVATE, { alg: 'RS256' });
    assert.equal(signJws(RFC7520_PAYLOAD_TEXT, privateKey), RFC7520_4_1);
    const publicKey = importJwk(RFC7520_RSA_PUBLIC, { alg: 'RS256' });
    const { header, payload } = verifyJws(RFC7520_4_1, { keys: publicKey, algorithms: ['RS256'] });
    assert.deepEqual(header, { alg: 'RS256', kid: 'bilbo.baggins@hobbiton.example' });
    assert.equal(text(payload), RFC7520_PAYLOAD_TEXT);
  });

  it('4.2 PS384: verifies the published signature, and a fresh signature round-trips', () => {
    const publicKey = importJwk(RFC7520_RSA_PUBLIC, { alg: 'PS384' });
    assert.equal(text(verifyJws(RFC7520_4_2, { keys: publicKey, algorithms: ['PS384'] }).payload), RFC7520_PAYLOAD_TEXT);
    const privateKey = importJwk(RFC7520_RSA_PRIVATE, { alg: 'PS384' });
    const fresh = signJws(RFC7520_PAYLOAD_TEXT, privateKey);
    assert.notEqual(fresh, RFC7520_4_2, 'PSS salts are random');
    assert.equal(fresh.split('.')[0], RFC7520_4_2.split('.')[0]);
    assert.equal(text(verifyJws(fresh, { keys: publicKey, algorithms: ['PS384'] }).payload), RFC7520_PAYLOAD_TEXT);
  });

  it('4.3 ES512: verifies the published signature with allowHighS; by default its high s is refused', () => {
    const publicKey = importJwk(RFC7520_EC_PUBLIC, { alg: 'ES512' });
    const { header, payload } = verifyJws(RFC7520_4_3, { keys: publicKey, algorithms: ['ES512'], allowHighS: true });
    assert.deepEqual(header, { alg: 'ES512', kid: 'bilbo.baggins@hobbiton.example' });
    assert.equal(text(payload), RFC7520_PAYLOAD_TEXT);
    assert.throws(() => verifyJws(RFC7520_4_3, { keys: publicKey, algorithms: ['ES512'] }), JwsSignatureInvalidError);
  });

  it('4.4 HS256: signs byte-exactly and verifies', () => {
    const key = importJwk(RFC7520_OCT);
    assert.equal(key.kid, '018c0ae5-4d9b-471b-bfd6-eef314bc7037');
    assert.equal(signJws(RFC7520_PAYLOAD_TEXT, key), RFC7520_4_4);
    assert.equal(text(verifyJws(RFC7520_4_4, { keys: key, algorithms: ['HS256'] }).payload), RFC7520_PAYLOAD_TEXT);
  });

  it('a flipped signature bit in any of them fails verification', () => {
    const cases = [
      [RFC7520_4_1, importJwk(RFC7520_RSA_PUBLIC, { alg: 'RS256' })],
      [RFC7520_4_2, importJwk(RFC7520_RSA_PUBLIC, { alg: 'PS384' })],
      [RFC7520_4_3, importJwk(RFC7520_EC_PUBLIC, { alg: 'ES512' })],
      [RFC7520_4_4, importJwk(RFC7520_OCT)],
    ] as const;
    for (const [token, key] of cases) {
      const dot = token.lastIndexOf('.');
      const sig = Buffer.from(token.slice(dot + 1), 'base64url');
      sig[3]! ^= 0x10;
      const forged = token.slice(0, dot + 1) + sig.toString('base64url');
      assert.throws(() => verifyJws(forged, { keys: key, algorithms: [key.alg], allowHighS: true }), JwsSignatureInvalidError);
    }
  });
});

describe('RFC 8037 Appendix A (Ed25519)', () => {
  it('A.4: signs "Example of Ed25519 signing" byte-exactly and verifies it', () => {
    const privateKey = importJwk(RFC8037_KEY, { alg: 'EdDSA' });
    assert.equal(signJws('Example of Ed25519 signing', privateKey), RFC8037_A4);
    const publicKey = importJwk({ kty: 'OKP', crv: 'Ed25519', x: RFC8037_KEY.x }, { alg: 'EdDSA' });
    assert.equal(text(verifyJws(RFC8037_A4, { keys: publicKey, algorithms: ['EdDSA'] }).payload), 'Example of Ed25519 signing');
  });

  it('A.2: the public half of the private key is the published x', () => {
    const privateKey = importJwk(RFC8037_KEY, { alg: 'EdDSA' });
    const jwk = createPublicKey(privateKey.key).export({ format: 'jwk' });
    assert.equal(jwk.x, RFC8037_KEY.x);
  });
});

describe('RFC 7638 (JWK thumbprint)', () => {
  it('§3.1: the thumbprint of the example RSA key is the published one', () => {
    const key = importJwk(RFC7638.jwk, { alg: 'RS256' });
    assert.equal(thumbprint(key.key), RFC7638.thumbprint);
  });
});
