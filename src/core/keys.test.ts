import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.js';
import type { StoredSigningKey } from '../store/types.js';
import { loadSigningKeys, rotateSigningKey, signingKid, SigningKeys, type KeyRepository } from './keys.js';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function stored(kid: string, minutesAgo: number): StoredSigningKey {
  return { kid, alg: 'EdDSA', privateJwk: '{}', active: false, createdAt: new Date(NOW - minutesAgo * MINUTE) };
}

/** A key repository in memory, oldest first like the real ones. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function memoryRepository(): KeyRepository & { keys: Mutable<StoredSigningKey>[] } {
  const keys: Mutable<StoredSigningKey>[] = [];
  return {
    keys,
    list: async () => keys.map((k) => ({ ...k })),
    add: async (key) => {
      for (const k of keys) k.active = false;
      keys.push({ ...key, active: true, createdAt: new Date(NOW) });
    },
  };
}

describe('signing keys', () => {
  it('sign with the newest key published for the lead time, not with a newer one', () => {
    const keys = [stored('k1', 60), stored('k2', 3), stored('k3', 1)];
    assert.equal(signingKid(keys, NOW, 2 * MINUTE), 'k2');
    assert.equal(signingKid(keys, NOW + MINUTE, 2 * MINUTE), 'k3', 'a minute later the newest has had its two minutes');
  });

  it('sign with the oldest key when none has been published long enough (a fresh install), and with nothing when there are no keys', () => {
    assert.equal(signingKid([stored('k1', 0.5), stored('k2', 0.1)], NOW, 2 * MINUTE), 'k1');
    assert.equal(signingKid([], NOW, 2 * MINUTE), undefined);
  });

  it('are generated on first start, and a rotation is published at once but signs only after the lead time', async () => {
    const config = loadConfig({ HUSH_JWT_ALG: 'EdDSA' });
    const secrets = { secret: 'unused-for-eddsa-0123456789abcdefghijkl', refreshSecret: 'unused-refresh-0123456789abcdefghijkl' };
    const repo = memoryRepository();
    const first = await loadSigningKeys(config, secrets, repo, { now: NOW });
    assert.equal(repo.keys.length, 1);
    assert.equal(first.active.kid, repo.keys[0]!.kid);

    repo.keys[0]!.createdAt = new Date(NOW - 60 * MINUTE);
    const rotated = await rotateSigningKey(repo, 'EdDSA');
    const published = await loadSigningKeys(config, secrets, repo, { now: NOW + MINUTE });
    assert.deepEqual(published.keys.map((k) => k.kid), [first.active.kid, rotated]);
    assert.equal(published.active.kid, first.active.kid);
    const later = await loadSigningKeys(config, secrets, repo, { now: NOW + 3 * MINUTE });
    assert.equal(later.active.kid, rotated);

    const ring = new SigningKeys(first);
    assert.equal(ring.replace(await loadSigningKeys(config, secrets, repo, { now: NOW - 10 * MINUTE })), true, 'a new kid is a change');
    assert.equal(ring.jwks().keys.length, 2);
    assert.equal(ring.replace(published), false, 'the same kids and signer are no change');
    assert.equal(ring.replace(later), true, 'another signer is a change');
    assert.equal(ring.current.active.kid, rotated);
  });
});
