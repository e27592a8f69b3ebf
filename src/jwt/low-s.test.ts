/**
 * ECDSA malleability: `(r, s)` and `(r, n − s)` both verify under the same key, so every ECDSA token has
 * a twin. hush signs and accepts only the low form (`s ≤ n/2`), so a token has exactly one valid signature.
 */
import assert from 'node:assert/strict';
import { sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSigner, createVerifier, generateKey, JwsSignatureInvalidError, publicKey } from './index.js';
import type { Algorithm, JwtKey } from './index.js';

/** Group orders, written out independently of the implementation's table. */
const ORDERS = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
} as const;
const HASHES = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' } as const;
type Es = keyof typeof ORDERS;
const ES_ALGS: readonly Es[] = ['ES256', 'ES384', 'ES512'];

const T = 1_700_000_000;
const clock = (): number => T * 1000;
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

function sOf(signature: Buffer): bigint {
  return BigInt('0x' + signature.toString('hex', signature.length / 2));
}

/** The same signature with `s` replaced by `n − s`. */
function twin(signature: Buffer, n: bigint): Buffer {
  const width = signature.length / 2;
  const high = n - sOf(signature);
  return Buffer.concat([signature.subarray(0, width), Buffer.from(high.toString(16).padStart(width * 2, '0'), 'hex')]);
}

/** A token signed by node:crypto directly, in the given form of `s`, plus its signing input. */
function nodeSigned(alg: Es, key: JwtKey, form: 'low' | 'high'): { input: string; signature: Buffer; token: string } {
  const input = `${b64(JSON.stringify({ alg }))}.${b64(JSON.stringify({ sub: 'user-1', iat: T, exp: T + 600 }))}`;
  let signature: Buffer = cryptoSign(HASHES[alg], Buffer.from(input), { key: key.key, dsaEncoding: 'ieee-p1363' });
  const isHigh = sOf(signature) > ORDERS[alg] / 2n;
  if (isHigh !== (form === 'high')) signature = twin(signature, ORDERS[alg]);
  return { input, signature, token: `${input}.${signature.toString('base64url')}` };
}

describe('ECDSA signatures are accepted only in low-s form', () => {
  for (const alg of ES_ALGS) {
    it(`${alg}: the high-s twin of a valid token is refused with ERR_JWS_SIGNATURE_INVALID, though node:crypto accepts it`, () => {
      const key = generateKey(alg as Algorithm as 'ES256');
      const verify = createVerifier({ keys: publicKey(key), algorithms: [alg], clock });
      const low = nodeSigned(alg, key, 'low');
      const high = nodeSigned(alg, key, 'high');
      // Both are genuine signatures of the same input: the twin is what an attacker can make unaided.
      for (const { input, signature } of [low, high]) {
        assert.ok(cryptoVerify(HASHES[alg], Buffer.from(input), { key: key.key, dsaEncoding: 'ieee-p1363' }, signature));
      }
      assert.equal(verify(low.token).sub, 'user-1');
      assert.throws(() => verify(high.token), (error: unknown) => error instanceof JwsSignatureInvalidError && error.code === 'ERR_JWS_SIGNATURE_INVALID');
      // The twin of hush's own token is refused too.
      const own = createSigner({ key })({ sub: 'user-1', iat: T, exp: T + 600 });
      const dot = own.lastIndexOf('.');
      const flipped = `${own.slice(0, dot)}.${twin(Buffer.from(own.slice(dot + 1), 'base64url'), ORDERS[alg]).toString('base64url')}`;
      assert.equal(verify(own).sub, 'user-1');
      assert.throws(() => verify(flipped), JwsSignatureInvalidError);
    });

    it(`${alg}: the signer always emits low s, and its signatures verify in node:crypto`, () => {
      const key = generateKey(alg as Algorithm as 'ES256');
      const sign = createSigner({ key });
      // node:crypto picks s at random: 64 signatures include a high one with probability 1 − 2^-64,
      // so this exercises the normalisation, not luck.
      for (let i = 0; i < 64; i++) {
        const token = sign({ sub: 'user-1', n: i });
        const dot = token.lastIndexOf('.');
        const signature = Buffer.from(token.slice(dot + 1), 'base64url');
        assert.ok(sOf(signature) <= ORDERS[alg] / 2n, `signature ${i} has a high s`);
        assert.ok(cryptoVerify(HASHES[alg], Buffer.from(token.slice(0, dot)), { key: key.key, dsaEncoding: 'ieee-p1363' }, signature));
      }
    });
  }
});
