import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError } from './errors.js';
import { PasswordHasher } from './password.js';
import { checkLoginPassword, checkPassword } from './validate.js';

/** Cheap argon2 parameters: these tests are about which strings match, not about cost. */
const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** Three different strings that hashing would make one password: lone surrogates become U+FFFD. */
const LONE_HIGH = 'correct-horse-\ud800';
const LONE_LOW = 'correct-horse-\udc00';
const REPLACEMENT = 'correct-horse-\ufffd';

function isInvalidRequest(error: unknown): boolean {
  return error instanceof AuthError && error.status === 400 && error.code === 'invalid_request';
}

describe('password rules', () => {
  it('a password to be set must be well-formed Unicode: a lone high or low surrogate anywhere is a 400 invalid_request', () => {
    for (const password of [LONE_HIGH, LONE_LOW, '\udfff' + 'abcdefgh', 'abcd\ud83dabcd', 'abcd\ude00\ud83dabcd']) {
      assert.throws(() => checkPassword(password), isInvalidRequest, JSON.stringify(password));
      assert.throws(() => checkPassword(password, 'newPassword'), (error: unknown) => isInvalidRequest(error) && /newPassword/.test((error as Error).message));
    }
  });

  it('well-formed passwords pass, astral characters (surrogate pairs) and U+FFFD included', () => {
    for (const password of [REPLACEMENT, 'abcdefgh', 'pässwörd-\u{1F600}\u{1F600}', '\u{10FFFF}'.repeat(8)]) {
      assert.doesNotThrow(() => checkPassword(password), JSON.stringify(password));
    }
  });

  it('login checks only the length: a malformed password of a valid length passes the check, a short one does not', () => {
    assert.doesNotThrow(() => checkLoginPassword(LONE_HIGH));
    assert.throws(() => checkLoginPassword('\ud800abc'), isInvalidRequest);
  });

  it('a malformed password never matches, not even the hash of the string hashing would make of it', async () => {
    const hasher = new PasswordHasher({ params: FAST, concurrency: 1 });
    const hash = await hasher.hash(REPLACEMENT);
    assert.equal((await hasher.verify(hash, REPLACEMENT)).ok, true);
    assert.deepEqual(await hasher.verify(hash, LONE_HIGH), { ok: false, needsRehash: false });
    assert.deepEqual(await hasher.verify(hash, LONE_LOW), { ok: false, needsRehash: false });
  });
});
