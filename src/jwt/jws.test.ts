import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { decode, generateKey, importSecret, JwtMalformedError, JwtOptionsError, publicKey, signJws, verifyJws } from './index.js';

const key = importSecret('j'.repeat(32), 'HS256', 'k');

describe('signJws / verifyJws', () => {
  it('round-trips arbitrary bytes, including an empty payload', () => {
    for (const payload of [new Uint8Array([0, 255, 1]), new Uint8Array(0), 'plain text ✓']) {
      const token = signJws(payload, key, { typ: 'x' });
      const out = verifyJws(token, { keys: key, algorithms: ['HS256'] });
      assert.deepEqual(Buffer.from(out.payload), Buffer.from(typeof payload === 'string' ? Buffer.from(payload) : payload));
      assert.deepEqual(out.header, { alg: 'HS256', kid: 'k', typ: 'x' });
      assert.ok(Object.isFrozen(out.header));
    }
  });

  it('refuses header members hush does not produce or that contradict the key', () => {
    assert.throws(() => signJws('x', key, { b64: false }), JwtOptionsError);
    assert.throws(() => signJws('x', key, { crit: ['x'] }), JwtOptionsError);
    assert.throws(() => signJws('x', key, { alg: 'none' }), JwtOptionsError);
    assert.throws(() => signJws('x', key, { kid: 'other' }), JwtOptionsError);
  });

  it('applies the length cap', () => {
    const token = signJws('x'.repeat(100), key);
    assert.throws(() => verifyJws(token, { keys: key, algorithms: ['HS256'], maxTokenLength: 64 }), { code: 'ERR_JWT_TOO_LARGE' });
  });

  it('verifies asymmetric signatures with a public key', () => {
    const priv = generateKey('PS256');
    const token = signJws('hello', priv);
    assert.equal(Buffer.from(verifyJws(token, { keys: publicKey(priv), algorithms: ['PS256'] }).payload).toString(), 'hello');
  });
});

describe('decode (inspection only)', () => {
  it('returns the header and a frozen JSON payload without verifying', () => {
    const token = signJws('{"sub":"x"}', key);
    const { header, payload } = decode(`${token.slice(0, -3)}AAA`);
    assert.deepEqual(header, { alg: 'HS256', kid: 'k' });
    assert.deepEqual(payload, { sub: 'x' });
    assert.ok(Object.isFrozen(payload));
  });

  it('returns non-object payloads as text', () => {
    assert.equal(decode(signJws('[1,2]', key)).payload, '[1,2]');
    assert.equal(decode(signJws('hello', key)).payload, 'hello');
  });

  it('is still strict about syntax', () => {
    const token = signJws('{"sub":"x"}', key);
    const [h, p] = token.split('.') as [string, string];
    for (const bad of [`${h}.${p}`, `${h}=.${p}.x`, `${Buffer.from('{"a":1,"a":2}').toString('base64url')}.${p}.`, `${h}.${Buffer.from([0xff]).toString('base64url')}.`, `${h}.${p}.a+b`]) {
      assert.throws(() => decode(bad), JwtMalformedError, bad);
    }
  });
});

describe('critical header extensions', () => {
  it('understands crit ["b64"] with b64 true (RFC 7797 default encoding)', () => {
    const token = signJws('{"sub":"x"}', key);
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k', b64: true, crit: ['b64'] })).toString('base64url');
    const resigned = signJwsOver(`${header}.${token.split('.')[1]!}`);
    assert.equal(Buffer.from(verifyJws(resigned, { keys: key, algorithms: ['HS256'] }).payload).toString(), '{"sub":"x"}');
  });
});

/** HMACs a prepared signing input with the suite's key. */
function signJwsOver(input: string): string {
  return `${input}.${createHmac('sha256', 'j'.repeat(32)).update(input).digest('base64url')}`;
}
