import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKey, importSecret, JwtKeyError, KeySet } from './index.js';

const old = importSecret('o'.repeat(32), 'HS256', 'old');
const current = importSecret('c'.repeat(32), 'HS256', 'current');
const ed = generateKey('EdDSA', { kid: 'ed' });

describe('KeySet', () => {
  it('makes the first key active unless activeKid names another', () => {
    assert.equal(new KeySet([old, current]).active, old);
    assert.equal(new KeySet([old, current], { activeKid: 'current' }).active, current);
  });

  it('looks kids up exactly and only for the key\'s own algorithm', () => {
    const set = new KeySet([old, current, ed]);
    assert.equal(set.get('old', 'HS256'), old);
    assert.equal(set.get('old', 'HS384'), undefined);
    assert.equal(set.get('ed', 'HS256'), undefined);
    assert.equal(set.get('OLD', 'HS256'), undefined);
    assert.equal(set.get('__proto__', 'HS256'), undefined);
    assert.equal(set.get('toString', 'HS256'), undefined);
  });

  it('without a kid: the sole key of that alg, else the active one', () => {
    const set = new KeySet([old, current, ed], { activeKid: 'current' });
    assert.equal(set.get(undefined, 'EdDSA'), ed);
    assert.equal(set.get(undefined, 'HS256'), current);
    assert.equal(new KeySet([ed, old, current]).get(undefined, 'HS256'), undefined);
    assert.deepEqual(set.candidates(undefined, 'HS256'), [current, old]);
  });

  it('refuses an empty list, duplicate kids and an unknown activeKid', () => {
    assert.throws(() => new KeySet([]), JwtKeyError);
    assert.throws(() => new KeySet([old, importSecret('x'.repeat(32), 'HS256', 'old')]), JwtKeyError);
    assert.throws(() => new KeySet([old], { activeKid: 'nope' }), JwtKeyError);
  });

  it('publishes public keys only, with kid, alg and use', () => {
    const jwks = new KeySet([current, ed]).toJwks();
    assert.equal(jwks.keys.length, 1);
    assert.deepEqual([jwks.keys[0]!.kid, jwks.keys[0]!.alg, jwks.keys[0]!.use, jwks.keys[0]!.d], ['ed', 'EdDSA', 'sig', undefined]);
    assert.ok(!JSON.stringify(jwks).includes(Buffer.from('c'.repeat(32)).toString('base64url')));
  });
});
