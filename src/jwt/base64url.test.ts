import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeCanonicalRange, decodeStrict, encode, isCanonical, isCanonicalRange } from './base64url.js';

describe('canonical base64url', () => {
  it('accepts exactly what Buffer encodes, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        assert.ok(isCanonical(text));
        assert.deepEqual(new Uint8Array(decodeStrict(text)!), bytes);
        assert.equal(encode(bytes), text);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses any string that is not the unique encoding of what it decodes to', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24, unit: fc.constantFrom(...'AQgw-_+/=. \n\u00e9') }), (text) => {
        const unique = Buffer.from(text, 'base64url').toString('base64url') === text;
        assert.equal(isCanonical(text), unique);
      }),
      { numRuns: 500 },
    );
  });

  it('decodeCanonicalRange agrees with the character-by-character check on any string, non-ASCII included', () => {
    const unit = fc.oneof(fc.constantFrom(...'AQgw09-_+/=.\t \n\0!\u007f\u0080\u00e9\u0141\u4141\ud83d'), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), fc.string({ maxLength: 3 }), (text, pad) => {
        const host = `${pad}${text}.`;
        const decoded = decodeCanonicalRange(host, pad.length, pad.length + text.length);
        assert.equal(decoded !== undefined, isCanonicalRange(host, pad.length, pad.length + text.length), JSON.stringify(text));
        if (decoded !== undefined) assert.equal(decoded.toString('base64url'), text);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses padding, the standard alphabet, whitespace and a length of 1 mod 4', () => {
    for (const bad of ['QQ==', 'QQ=', 'a+b/', 'ab cd', 'abcde', 'QQ\n']) assert.equal(isCanonical(bad), false, bad);
  });

  it('refuses non-zero unused bits in the last character, which Buffer silently drops', () => {
    assert.deepEqual(Buffer.from('QR', 'base64url'), Buffer.from('QQ', 'base64url'));
    assert.equal(isCanonical('QQ'), true);
    assert.equal(isCanonical('QR'), false);
    assert.equal(isCanonical('QUF'), false);
    assert.equal(isCanonical('QUE'), true);
    assert.equal(decodeStrict('QR'), undefined);
  });

  it('checks a range of a longer string without slicing it', () => {
    assert.equal(isCanonicalRange('xx.QUE.yy', 3, 6), true);
    assert.equal(isCanonicalRange('xx.QUF.yy', 3, 6), false);
    assert.equal(isCanonicalRange('', 0, 0), true);
  });
});
