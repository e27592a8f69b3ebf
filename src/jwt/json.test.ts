import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deepFreeze, hasDuplicateMembers, parseJsonObject } from './json.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('parseJsonObject', () => {
  it('returns JSON objects and nothing else', () => {
    assert.deepEqual(parseJsonObject(bytes('{"a":1}')), { a: 1 });
    for (const other of ['[1]', 'null', '"s"', '1', 'true', '', '{', '{"a":1}x']) {
      assert.equal(parseJsonObject(bytes(other)), undefined, other);
    }
  });

  it('is exactly as strict about UTF-8 as a fatal TextDecoder', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (inner) => {
        const input = Buffer.concat([bytes('{"k":"'), Buffer.from(inner), bytes('"}')]);
        let valid = true;
        try {
          fatal.decode(input);
        } catch {
          valid = false;
        }
        if (!valid) assert.equal(parseJsonObject(input), undefined);
      }),
      { numRuns: 1000 },
    );
    assert.equal(parseJsonObject(Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d])), undefined, 'encoded surrogate');
    assert.equal(parseJsonObject(Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])), undefined, 'overlong');
  });

  it('refuses a leading byte order mark', () => {
    assert.equal(parseJsonObject(bytes('\ufeff{"a":1}')), undefined);
  });

  it('keeps "__proto__" as a harmless own property', () => {
    const parsed = parseJsonObject(bytes('{"__proto__":{"admin":true}}'))!;
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.ok(Object.hasOwn(parsed, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['admin'], undefined);
  });
});

describe('hasDuplicateMembers', () => {
  it('finds a repeated top-level name, also when spelled with escapes', () => {
    assert.equal(hasDuplicateMembers('{"alg":"a","alg":"b"}'), true);
    assert.equal(hasDuplicateMembers('{"alg":"a","\\u0061lg":"b"}'), true);
    assert.equal(hasDuplicateMembers('{ "a" : 1 ,\r\n "a" : 2 }'), true);
  });

  it('ignores equal names in nested objects, arrays and string values', () => {
    assert.equal(hasDuplicateMembers('{"a":{"a":1,"b":{"a":2}},"b":["a","a",{"a":1}],"c":"\\"a\\":1,"}'), false);
    assert.equal(hasDuplicateMembers('{"x\\\\":1,"y":"\\\\"}'), false);
  });

  it('agrees with a count of the parsed keys for any generated object', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'a\\u0062', '\\"'), fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 }), (members) => {
        const text = '{' + members.map(([k, v]) => `"${k}":${JSON.stringify(v)}`).join(',') + '}';
        const names = members.map(([k]) => JSON.parse(`"${k}"`) as string);
        assert.equal(hasDuplicateMembers(text), new Set(names).size !== names.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
    assert.ok(Object.isFrozen(value.a.b[1]));
    assert.throws(() => {
      (value.a.b as unknown[]).push(3);
    }, TypeError);
  });
});
