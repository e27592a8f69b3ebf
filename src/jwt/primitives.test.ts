import assert from 'node:assert/strict';
import { timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { equalsAt } from './primitives.js';

/** The reference: node's timingSafeEqual over the UTF-16 code units, false where lengths differ (it throws). */
function reference(expected: string, token: string, start: number): boolean {
  const actual = token.slice(start);
  if (actual.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected, 'utf16le'), Buffer.from(actual, 'utf16le'));
}

describe('the HMAC comparison loop (equalsAt)', () => {
  it('agrees with crypto.timingSafeEqual on random inputs, equal, near-equal and of different lengths', () => {
    const base64url = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 90 });
    const case_ = fc.oneof(
      // Unrelated strings (mostly of different lengths), any UTF-16 code units.
      fc.record({ expected: fc.string({ unit: 'binary', maxLength: 40 }), prefix: fc.string({ maxLength: 8 }), actual: fc.string({ unit: 'binary', maxLength: 40 }) }),
      // The same signature behind a prefix: must be equal.
      base64url.chain((sig) => fc.record({ expected: fc.constant(sig), prefix: fc.string({ maxLength: 60 }), actual: fc.constant(sig) })),
      // One code unit changed anywhere (first, last, middle), by any bit pattern.
      fc.tuple(base64url.filter((s) => s.length > 0), fc.nat(), fc.integer({ min: 1, max: 0xffff })).map(([sig, at, flip]) => {
        const i = at % sig.length;
        return { expected: sig, prefix: 'h.p.', actual: sig.slice(0, i) + String.fromCharCode(sig.charCodeAt(i) ^ flip) + sig.slice(i + 1) };
      }),
      // Truncated or extended by a little.
      fc.tuple(base64url, fc.integer({ min: -3, max: 3 })).map(([sig, delta]) => ({
        expected: sig,
        prefix: 'x.y.',
        actual: delta < 0 ? sig.slice(0, Math.max(0, sig.length + delta)) : sig + 'A'.repeat(delta),
      })),
    );
    fc.assert(
      fc.property(case_, ({ expected, prefix, actual }) => {
        const token = prefix + actual;
        assert.equal(equalsAt(expected, token, prefix.length), reference(expected, token, prefix.length));
      }),
      { numRuns: 5000 },
    );
  });

  it('never reads outside the signature range: a matching prefix or tail elsewhere in the token does not count', () => {
    assert.equal(equalsAt('abc', 'abc.abd', 4), false);
    assert.equal(equalsAt('abd', 'abc.abd', 4), true);
    assert.equal(equalsAt('ab', 'x.abc', 2), false);
    assert.equal(equalsAt('', 'x.', 2), true);
  });
});
