import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { DeviceTokens, MAX_DEVICE_ENTRIES } from './device-tokens.js';

const SECRET = 'refresh-secret-0123456789-abcdefghijklmnop';
const user = (deviceEpoch = 0) => ({ id: randomUUID(), deviceEpoch });

/** Replaces the character at `index` with another of the base64url alphabet. */
function flip(text: string, index: number): string {
  const c = text[index];
  return `${text.slice(0, index)}${c === 'A' ? 'B' : 'A'}${text.slice(index + 1)}`;
}

describe('DeviceTokens', () => {
  it('accepts an entry it issued for its user at the same device epoch', () => {
    const tokens = new DeviceTokens(SECRET);
    const alice = user(3);
    const entry = tokens.issue(alice);
    const [parsed] = tokens.parse(entry);
    assert.ok(parsed);
    assert.equal(parsed.userId, alice.id);
    assert.deepEqual(tokens.match(tokens.parse(entry), alice), parsed);
  });

  it('gives each entry its own random id', () => {
    const tokens = new DeviceTokens(SECRET);
    const alice = user();
    assert.notEqual(tokens.parse(tokens.issue(alice))[0]?.id, tokens.parse(tokens.issue(alice))[0]?.id);
  });

  it('refuses a tampered entry: any changed id or HMAC character', () => {
    const tokens = new DeviceTokens(SECRET);
    const alice = user();
    const entry = tokens.issue(alice);
    const macStart = entry.lastIndexOf('.') + 1;
    for (const index of [0, 10, 21, macStart, macStart + 11, entry.length - 1]) {
      const tampered = flip(entry, index);
      assert.equal(tokens.parse(tampered).length, 1, 'still well-formed');
      assert.equal(tokens.match(tokens.parse(tampered), alice), undefined, `character ${index}`);
    }
  });

  it("refuses another user's entry, even at the same epoch, and an entry relabelled with the user's id", () => {
    const tokens = new DeviceTokens(SECRET);
    const alice = user();
    const mallory = user();
    const entry = tokens.issue(mallory);
    assert.equal(tokens.match(tokens.parse(entry), alice), undefined);
    const relabelled = entry.replace(mallory.id, alice.id);
    assert.equal(tokens.match(tokens.parse(relabelled), alice), undefined);
  });

  it('refuses an entry once the device epoch has moved on (logout-all, suspension)', () => {
    const tokens = new DeviceTokens(SECRET);
    const alice = user(0);
    const entry = tokens.issue(alice);
    assert.equal(tokens.match(tokens.parse(entry), { ...alice, deviceEpoch: 1 }), undefined);
    assert.ok(tokens.match(tokens.parse(tokens.issue({ ...alice, deviceEpoch: 1 })), { ...alice, deviceEpoch: 1 }));
  });

  it('refuses entries made under another secret', () => {
    const alice = user();
    const entry = new DeviceTokens('another-secret-0123456789-abcdefghijklmnop').issue(alice);
    assert.equal(new DeviceTokens(SECRET).match(new DeviceTokens(SECRET).parse(entry), alice), undefined);
  });

  it(`keeps the newest ${MAX_DEVICE_ENTRIES} users per cookie: a sixth evicts the oldest`, () => {
    const tokens = new DeviceTokens(SECRET);
    const users = Array.from({ length: MAX_DEVICE_ENTRIES + 1 }, () => user());
    let value: string | undefined;
    for (const u of users) value = tokens.add(value, tokens.issue(u));
    const entries = tokens.parse(value);
    assert.equal(entries.length, MAX_DEVICE_ENTRIES);
    assert.equal(tokens.match(entries, users[0]!), undefined, 'the oldest is gone');
    for (const u of users.slice(1)) assert.ok(tokens.match(entries, u));
  });

  it("replaces a user's entry on a new sign-in and makes it the newest, so it is evicted last", () => {
    const tokens = new DeviceTokens(SECRET);
    const users = Array.from({ length: MAX_DEVICE_ENTRIES }, () => user());
    let value: string | undefined;
    for (const u of users) value = tokens.add(value, tokens.issue(u));
    value = tokens.add(value, tokens.issue(users[0]!)); // the oldest signs in again
    assert.equal(tokens.parse(value).filter((e) => e.userId === users[0]!.id).length, 1);
    value = tokens.add(value, tokens.issue(user())); // a newcomer evicts the now-oldest, users[1]
    const entries = tokens.parse(value);
    assert.ok(tokens.match(entries, users[0]!));
    assert.equal(tokens.match(entries, users[1]!), undefined);
  });

  it('ignores malformed entries and oversized values, and keeps the well-formed ones', () => {
    const tokens = new DeviceTokens(SECRET);
    const alice = user();
    const entry = tokens.issue(alice);
    assert.deepEqual(tokens.parse(undefined), []);
    assert.deepEqual(tokens.parse(''), []);
    assert.deepEqual(tokens.parse('x.y.z~~..'), []);
    assert.deepEqual(tokens.parse(`${entry}~`.repeat(20)), [], 'over 1 KiB');
    assert.ok(tokens.match(tokens.parse(`garbage~${entry}~${entry.toUpperCase()}`), alice));
    assert.throws(() => tokens.add(undefined, 'not an entry'), TypeError);
  });
});
