// The Store specification, run against both engines: what the core may rely on, whichever
// database is behind it. Then a few engine-specific behaviours (files, pragmas, pool failures).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import {
  MigrationError,
  UsernameTakenError,
  openSqliteStore,
  openStore,
  type NewUser,
  type Store,
} from './index.js';
import { openPostgresStore } from './postgres.js';
import { migrations } from './migrations.js';
import { configureConnection } from './sqlite.js';
import { createTestPostgresDatabase, postgresSkipReason } from './test-db.js';

// Decided before any test runs, so that nothing else competes with the check.
let postgresSkip: string | false;
let postgresCiFailure: Error | undefined;
try {
  postgresSkip = await postgresSkipReason();
} catch (error) {
  postgresSkip = false;
  postgresCiFailure = error as Error;
}
if (postgresSkip) console.warn(postgresSkip);

/** A fresh, empty database of one engine. */
interface TestDatabase {
  /** A new Store (its own connection or pool) over this database. */
  open(): Promise<Store>;
  /** Runs raw SQL on its own connection, for checks the Store interface does not expose. */
  exec(statement: string): Promise<unknown[]>;
  drop(): Promise<void>;
}

interface Engine {
  readonly name: 'sqlite' | 'postgres';
  fresh(): Promise<TestDatabase>;
}

const tempRoot = mkdtempSync(join(tmpdir(), 'hush-store-test-'));
after(() => rmSync(tempRoot, { recursive: true, force: true }));

const sqlite: Engine = {
  name: 'sqlite',
  async fresh() {
    const path = join(tempRoot, randomUUID(), 'hush.sqlite');
    return {
      open: () => openSqliteStore(path),
      async exec(statement) {
        const db = new BetterSqlite3(path);
        try {
          const prepared = db.prepare(statement);
          return prepared.reader ? prepared.all() : (prepared.run(), []);
        } finally {
          db.close();
        }
      },
      drop: async () => undefined,
    };
  },
};

const postgres: Engine = {
  name: 'postgres',
  async fresh() {
    const database = await createTestPostgresDatabase();
    return {
      open: () => openPostgresStore(database.url),
      async exec(statement) {
        const client = new pg.Client(database.url);
        await client.connect();
        try {
          return (await client.query(statement)).rows;
        } finally {
          await client.end();
        }
      },
      drop: () => database.drop(),
    };
  },
};

function newUser(username: string): NewUser {
  return { id: randomUUID(), username, passwordHash: `$argon2id$fake$${username}`, salt: randomUUID() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settles `promise`, failing if that takes longer than `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function storeSpecification(engine: Engine): void {
  let database: TestDatabase;
  let store: Store;

  before(async () => {
    database = await engine.fresh();
    store = await database.open();
    await store.migrate();
  });
  after(async () => {
    await store?.close();
    await database?.drop();
  });

  it(`reports its kind as ${engine.name}`, () => {
    assert.equal(store.kind, engine.name);
  });

  describe('migrations', () => {
    it('are idempotent: running them twice more changes nothing and keeps the data', async () => {
      const user = await store.createUser(newUser('migrate-twice'));
      await store.migrate();
      await store.migrate();
      assert.deepEqual(await store.findUserById(user.id), user);
    });

    it('record each migration once', async () => {
      const rows = await database.exec('select name from hush_migrations order by name');
      assert.deepEqual(rows, migrations.map((m) => ({ name: m.name })));
    });

    it('apply once when several stores migrate a fresh database at the same time', async () => {
      const fresh = await engine.fresh();
      const stores = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        assert.equal((await fresh.exec('select name from hush_migrations')).length, migrations.length);
        const [first] = stores;
        assert.ok(first);
        await first.createUser(newUser('after-concurrent-migrate'));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await fresh.drop();
      }
    });

    it('refuse a database upgraded by a newer version, with MigrationError', async () => {
      const fresh = await engine.fresh();
      const other = await fresh.open();
      try {
        await other.migrate();
        await fresh.exec(`insert into hush_migrations (name, applied_at) values ('9999_from_the_future', 0)`);
        await assert.rejects(other.migrate(), (error: unknown) => {
          assert.ok(error instanceof MigrationError);
          assert.equal(error.code, 'migration_failed');
          assert.match(error.message, /9999_from_the_future/);
          return true;
        });
      } finally {
        await other.close();
        await fresh.drop();
      }
    });
  });

  describe('users', () => {
    it('createUser returns the stored record: version 1, not suspended, timestamps now', async () => {
      const input = newUser('Creator');
      const before = Date.now();
      const user = await store.createUser(input);
      const after = Date.now();
      assert.equal(user.id, input.id);
      assert.equal(user.username, 'Creator');
      assert.equal(user.passwordHash, input.passwordHash);
      assert.equal(user.salt, input.salt);
      assert.equal(user.credentialVersion, 1);
      assert.equal(user.suspended, false);
      assert.ok(user.createdAt.getTime() >= before && user.createdAt.getTime() <= after);
      assert.deepEqual(user.updatedAt, user.createdAt);
    });

    it('refuses a username that exists in another case with UsernameTakenError', async () => {
      const original = await store.createUser(newUser('Bob'));
      for (const spelling of ['Bob', 'bob', 'BOB', 'bOb']) {
        await assert.rejects(store.createUser(newUser(spelling)), (error: unknown) => {
          assert.ok(error instanceof UsernameTakenError);
          assert.equal(error.code, 'username_taken');
          return true;
        });
      }
      assert.deepEqual(await store.findUserByUsername('bob'), original);
    });

    it('lets exactly one of concurrent creates of one name in different cases win', async () => {
      const spellings = ['Alice', 'alice', 'ALICE', 'aLiCe', 'AlIcE', 'alicE', 'Alice', 'alice'];
      // Two stores: on PostgreSQL two pools, on SQLite two connections to one file.
      const second = await database.open();
      try {
        const results = await Promise.allSettled(
          spellings.map((name, i) => (i % 2 === 0 ? store : second).createUser(newUser(name))),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        assert.equal(won.length, 1);
        for (const r of lost) assert.ok(r.reason instanceof UsernameTakenError, String(r.reason));
        const [winner] = won;
        assert.deepEqual(await store.findUserByUsername('ALICE'), winner?.value);
      } finally {
        await second.close();
      }
    });

    it('does not report a duplicate id as a taken username', async () => {
      const first = await store.createUser(newUser('id-owner'));
      await assert.rejects(
        store.createUser({ ...newUser('id-thief'), id: first.id }),
        (error: unknown) => !(error instanceof UsernameTakenError),
      );
      assert.equal(await store.findUserByUsername('id-thief'), undefined);
    });

    it('finds users by username ignoring case, keeping the spelling they signed up with', async () => {
      const user = await store.createUser(newUser('Dave.Smith@example'));
      assert.deepEqual(await store.findUserByUsername('dave.smith@EXAMPLE'), user);
      assert.equal((await store.findUserByUsername('DAVE.SMITH@EXAMPLE'))?.username, 'Dave.Smith@example');
      assert.equal(await store.findUserByUsername('dave.smith'), undefined);
    });

    it('finds users by id, and nothing for an unknown id', async () => {
      const user = await store.createUser(newUser('by-id'));
      assert.deepEqual(await store.findUserById(user.id), user);
      assert.equal(await store.findUserById(randomUUID()), undefined);
    });

    it('lists users oldest first', async () => {
      const created = [];
      for (const name of ['zz-first', 'mm-second', 'aa-third']) {
        created.push(await store.createUser(newUser(name)));
        await sleep(3);
      }
      const ids = new Set(created.map((u) => u.id));
      const listed = (await store.listUsers()).filter((u) => ids.has(u.id));
      assert.deepEqual(listed, created);
    });

    it('setPasswordHash replaces the hash without bumping the credential version', async () => {
      const user = await store.createUser(newUser('rehashed'));
      await sleep(3);
      assert.equal(await store.setPasswordHash(user.id, '$argon2id$new-parameters', user.passwordHash), true);
      const after = await store.findUserById(user.id);
      assert.equal(after?.passwordHash, '$argon2id$new-parameters');
      assert.equal(after?.credentialVersion, user.credentialVersion);
      assert.ok(after && after.updatedAt > user.updatedAt);
    });

    it('setPasswordHash writes nothing once the hash is no longer the expected one (a rehash never reverts a change)', async () => {
      const user = await store.createUser(newUser('rehash-lost'));
      const changed = await store.bumpCredentialVersion(user.id, user.credentialVersion, { passwordHash: '$argon2id$changed' });
      assert.equal(await store.setPasswordHash(user.id, '$argon2id$old-password-rehashed', user.passwordHash), false);
      assert.deepEqual(await store.findUserById(user.id), changed);
      assert.equal(await store.setPasswordHash(randomUUID(), '$argon2id$x', user.passwordHash), false);
    });

    it('bumpCredentialVersion increments the version by one and returns the updated user', async () => {
      const user = await store.createUser(newUser('logout-all'));
      const bumped = await store.bumpCredentialVersion(user.id, user.credentialVersion);
      assert.equal(bumped?.credentialVersion, 2);
      assert.equal(bumped?.passwordHash, user.passwordHash);
      assert.equal(bumped?.suspended, false);
      assert.deepEqual(await store.findUserById(user.id), bumped);
    });

    it('bumpCredentialVersion applies a password change and suspension with the bump', async () => {
      const user = await store.createUser(newUser('credential-events'));
      const changed = await store.bumpCredentialVersion(user.id, 1, { passwordHash: '$argon2id$changed' });
      assert.equal(changed?.credentialVersion, 2);
      assert.equal(changed?.passwordHash, '$argon2id$changed');
      const suspended = await store.bumpCredentialVersion(user.id, 2, { suspended: true });
      assert.equal(suspended?.credentialVersion, 3);
      assert.equal(suspended?.suspended, true);
      assert.equal(suspended?.passwordHash, '$argon2id$changed');
      const unsuspended = await store.bumpCredentialVersion(user.id, 3, { suspended: false });
      assert.equal(unsuspended?.credentialVersion, 4);
      assert.equal(unsuspended?.suspended, false);
    });

    it('bumpCredentialVersion returns undefined for an unknown user', async () => {
      assert.equal(await store.bumpCredentialVersion(randomUUID(), 1, { suspended: true }), undefined);
    });

    it('bumpCredentialVersion from a version that is no longer current writes nothing and returns undefined', async () => {
      const user = await store.createUser(newUser('stale-bump'));
      const suspended = await store.bumpCredentialVersion(user.id, 1, { suspended: true });
      assert.equal(await store.bumpCredentialVersion(user.id, 1, { passwordHash: '$argon2id$attacker' }), undefined);
      assert.equal(await store.bumpCredentialVersion(user.id, 1, { suspended: false }), undefined);
      assert.equal(await store.bumpCredentialVersion(user.id, 3), undefined, 'nor from a version not reached yet');
      assert.deepEqual(await store.findUserById(user.id), suspended);
    });

    it('of 20 concurrent bumps from one version on two connections exactly one wins; each winner from the next version again', async () => {
      const user = await store.createUser(newUser('bumped-concurrently'));
      const second = await database.open();
      try {
        let version = user.credentialVersion;
        for (let round = 0; round < 3; round++) {
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              (i % 2 === 0 ? store : second).bumpCredentialVersion(user.id, version, { passwordHash: `$argon2id$${round}-${i}` }),
            ),
          );
          const winners = results.filter((r) => r !== undefined);
          assert.equal(winners.length, 1, `round ${round}: exactly one compare-and-swap succeeds`);
          assert.equal(winners[0]?.credentialVersion, version + 1);
          assert.deepEqual(await store.findUserById(user.id), winners[0], "the stored row is the winner's");
          version += 1;
        }
      } finally {
        await second.close();
      }
    });

    it('bumpCredentialVersion with endDevices also increments the device epoch; other changes leave it', async () => {
      const user = await store.createUser(newUser('device-epoch'));
      assert.equal(user.deviceEpoch, 0);
      const ended = await store.bumpCredentialVersion(user.id, user.credentialVersion, { endDevices: true });
      assert.equal(ended?.deviceEpoch, 1);
      assert.equal(ended?.credentialVersion, user.credentialVersion + 1);
      const changed = await store.bumpCredentialVersion(user.id, ended!.credentialVersion, { passwordHash: '$argon2id$changed' });
      assert.equal(changed?.deviceEpoch, 1, 'a password change leaves the device epoch');
      assert.equal(await store.bumpCredentialVersion(user.id, user.credentialVersion, { endDevices: true }), undefined, 'a stale version writes nothing');
      assert.equal((await store.findUserById(user.id))?.deviceEpoch, 1);
    });

    it('deleteUser removes the user, reports whether it did, and frees the username', async () => {
      const user = await store.createUser(newUser('Deleted'));
      assert.equal(await store.deleteUser(user.id, user.credentialVersion), true);
      assert.equal(await store.findUserById(user.id), undefined);
      assert.equal(await store.findUserByUsername('deleted'), undefined);
      assert.equal(await store.deleteUser(user.id, user.credentialVersion), false);
      const again = await store.createUser(newUser('DELETED'));
      assert.notEqual(again.id, user.id);
    });

    it('deleteUser from a version that is no longer current deletes nothing', async () => {
      const user = await store.createUser(newUser('delete-stale'));
      const suspended = await store.bumpCredentialVersion(user.id, user.credentialVersion, { suspended: true });
      assert.equal(await store.deleteUser(user.id, user.credentialVersion), false);
      assert.deepEqual(await store.findUserById(user.id), suspended);
      assert.equal(await store.deleteUser(user.id, suspended!.credentialVersion), true);
    });
  });

  describe('revocation feed', () => {
    const inOneHour = () => new Date(Date.now() + 3_600_000);

    it('stores both kinds and gives strictly increasing positions', async () => {
      const userId = randomUUID();
      const expiresAt = inOneHour();
      const a = await store.addRevocation({ kind: 'user', userId, version: 7, expiresAt });
      const b = await store.addRevocation({ kind: 'session', sessionId: 'sid-1', expiresAt });
      assert.deepEqual(a, { kind: 'user', userId, version: 7, expiresAt, seq: a.seq });
      assert.deepEqual(b, { kind: 'session', sessionId: 'sid-1', expiresAt, seq: b.seq });
      assert.ok(Number.isSafeInteger(a.seq) && b.seq > a.seq);
    });

    it('revocationsSince returns the later, unexpired notices in feed order', async () => {
      const start = await store.addRevocation({ kind: 'session', sessionId: 'marker', expiresAt: inOneHour() });
      const expiring = new Date(Date.now() + 500);
      const one = await store.addRevocation({ kind: 'session', sessionId: 'one', expiresAt: inOneHour() });
      const short = await store.addRevocation({ kind: 'session', sessionId: 'short', expiresAt: expiring });
      const two = await store.addRevocation({ kind: 'user', userId: randomUUID(), version: 3, expiresAt: inOneHour() });
      assert.deepEqual(await store.revocationsSince(start.seq, new Date()), [one, short, two]);
      assert.deepEqual(await store.revocationsSince(one.seq, new Date()), [short, two]);
      // Expired at `now` means expiresAt <= now.
      assert.deepEqual(await store.revocationsSince(start.seq, expiring), [one, two]);
      assert.deepEqual(await store.revocationsSince(two.seq, new Date()), []);
    });

    it('revocationsSince(0) starts from the beginning', async () => {
      const added = await store.addRevocation({ kind: 'session', sessionId: 'from-zero', expiresAt: inOneHour() });
      const all = await store.revocationsSince(0, new Date());
      assert.deepEqual(all.at(-1), added);
      assert.deepEqual(all.map((r) => r.seq), [...all.map((r) => r.seq)].sort((x, y) => x - y));
    });

    it('gives distinct positions to concurrent notices, all visible in order', async () => {
      const start = await store.addRevocation({ kind: 'session', sessionId: 'before-burst', expiresAt: inOneHour() });
      const second = await database.open();
      try {
        const added = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? store : second).addRevocation({ kind: 'session', sessionId: `burst-${i}`, expiresAt: inOneHour() }),
          ),
        );
        const seqs = added.map((r) => r.seq);
        assert.equal(new Set(seqs).size, 20);
        const feed = await store.revocationsSince(start.seq, new Date());
        assert.deepEqual(feed, [...added].sort((x, y) => x.seq - y.seq));
      } finally {
        await second.close();
      }
    });

    it('a reader following the feed while notices are written concurrently misses none', async () => {
      const start = await store.addRevocation({ kind: 'session', sessionId: 'follow-start', expiresAt: inOneHour() });
      const writers = await Promise.all([database.open(), database.open()]);
      const seen: number[] = [];
      let last = start.seq;
      let writing = true;
      const follow = (async () => {
        // One more poll after the writers finish picks up whatever committed last.
        for (let more = true; more; ) {
          more = writing;
          for (const notice of await store.revocationsSince(last, new Date())) {
            seen.push(notice.seq);
            last = notice.seq;
          }
        }
      })();
      try {
        const added = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            writers[i % 2]!.addRevocation({ kind: 'session', sessionId: `follow-${i}`, expiresAt: inOneHour() }),
          ),
        );
        writing = false;
        await follow;
        assert.deepEqual(seen, added.map((r) => r.seq).sort((x, y) => x - y));
      } finally {
        writing = false;
        await follow.catch(() => undefined);
        await Promise.all(writers.map((w) => w.close()));
      }
    });

    it('close() first writes the notices it already accepted, then refuses more with StoreClosedError', async () => {
      const before = (await store.addRevocation({ kind: 'session', sessionId: 'before-close', expiresAt: inOneHour() })).seq;
      const closing = await database.open();
      const accepted = Array.from({ length: 5 }, (_, i) =>
        closing.addRevocation({ kind: 'session', sessionId: `closing-${i}`, expiresAt: inOneHour() }),
      );
      await closing.close();
      const written = await Promise.all(accepted);
      const seen = (await store.revocationsSince(before, new Date())).map((r) => r.seq);
      for (const notice of written) assert.ok(seen.includes(notice.seq), `notice ${notice.seq} was written`);
      await assert.rejects(
        closing.addRevocation({ kind: 'session', sessionId: 'too-late', expiresAt: inOneHour() }),
        (error: unknown) => (error as { code?: unknown }).code === 'store_closed',
      );
    });

    it('pruneRevocations deletes only expired notices and counts them; positions are never reused', async () => {
      const now = new Date();
      const live = await store.addRevocation({ kind: 'session', sessionId: 'live', expiresAt: inOneHour() });
      const dead1 = await store.addRevocation({ kind: 'session', sessionId: 'dead-1', expiresAt: new Date(now.getTime() - 1) });
      const dead2 = await store.addRevocation({ kind: 'user', userId: randomUUID(), version: 2, expiresAt: now });
      const pruned = await store.pruneRevocations(now);
      assert.ok(pruned >= 2, `pruned ${pruned}`);
      assert.equal(await store.pruneRevocations(now), 0);
      const rest = await store.revocationsSince(live.seq - 1, new Date(0));
      assert.deepEqual(rest, [live]);
      // The highest position was pruned: the next notice must still come after it.
      const next = await store.addRevocation({ kind: 'session', sessionId: 'after-prune', expiresAt: inOneHour() });
      assert.ok(next.seq > dead2.seq && dead2.seq > dead1.seq);
    });
  });

  describe('signing keys', () => {
    it('adding a key makes it the only active one; older keys stay, inactive, oldest first', async () => {
      await store.addSigningKey({ kid: 'k1', alg: 'EdDSA', privateJwk: '{"kty":"OKP","d":"one"}' });
      await sleep(3);
      await store.addSigningKey({ kid: 'k2', alg: 'ES256', privateJwk: '{"kty":"EC","d":"two"}' });
      const keys = await store.listSigningKeys();
      assert.deepEqual(
        keys.map((k) => [k.kid, k.alg, k.privateJwk, k.active]),
        [
          ['k1', 'EdDSA', '{"kty":"OKP","d":"one"}', false],
          ['k2', 'ES256', '{"kty":"EC","d":"two"}', true],
        ],
      );
      for (const key of keys) assert.ok(key.createdAt instanceof Date && Date.now() - key.createdAt.getTime() < 60_000);
    });

    it('keeps exactly one active key when keys are added concurrently', async () => {
      const second = await database.open();
      try {
        await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            (i % 2 === 0 ? store : second).addSigningKey({ kid: `race-${i}`, alg: 'EdDSA', privateJwk: '{}' }),
          ),
        );
      } finally {
        await second.close();
      }
      const keys = await store.listSigningKeys();
      assert.equal(keys.length, 8);
      assert.equal(keys.filter((k) => k.active).length, 1);
    });

    it('refuses a duplicate kid and leaves the active key as it was', async () => {
      const before = await store.listSigningKeys();
      await assert.rejects(store.addSigningKey({ kid: 'k1', alg: 'EdDSA', privateJwk: '{}' }));
      assert.deepEqual(await store.listSigningKeys(), before);
    });
  });

  describe('sessions (rotating strategy)', () => {
    const hour = 3_600_000;
    async function newSession(username: string, id = randomUUID()) {
      const user = await store.createUser(newUser(username));
      const now = new Date();
      const session = await store.createSession({
        id,
        userId: user.id,
        createdAt: now,
        expiresAt: new Date(now.getTime() + hour),
        userAgent: 'test-agent',
        address: '192.0.2.1',
      });
      return { user, session };
    }

    it('start at counter 0, unrotated, and read back as stored', async () => {
      const { user, session } = await newSession('sess-a');
      assert.equal(session.counter, 0);
      assert.equal(session.rotatedAt, null);
      assert.equal(session.revoked, false);
      assert.deepEqual(await store.findSession(session.id), session);
      assert.deepEqual((await store.listSessions(user.id, new Date())).map((s) => s.id), [session.id]);
    });

    it('advance by compare-and-swap: of 20 concurrent advances from one counter exactly one wins', async () => {
      const { session } = await newSession('sess-b');
      const second = await database.open();
      try {
        const now = new Date();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? store : second).advanceSession(session.id, 0, now, new Date(now.getTime() + 2 * hour)),
          ),
        );
        assert.equal(results.filter((r) => r !== undefined).length, 1);
      } finally {
        await second.close();
      }
      const after = await store.findSession(session.id);
      assert.equal(after?.counter, 1);
      assert.ok(after?.rotatedAt instanceof Date);
    });

    it('remember the previous rotation time when advancing again', async () => {
      const { session } = await newSession('sess-c');
      const first = await store.advanceSession(session.id, 0, new Date(1_000), new Date(Date.now() + hour));
      const second = await store.advanceSession(session.id, 1, new Date(2_000), new Date(Date.now() + hour));
      assert.equal(first?.rotatedAt?.getTime(), 1_000);
      assert.equal(second?.rotatedAt?.getTime(), 2_000);
      assert.equal(second?.previousRotatedAt?.getTime(), 1_000);
      assert.equal(second?.counter, 2);
    });

    it('cannot advance once revoked, and leave the list when revoked', async () => {
      const { user, session } = await newSession('sess-d');
      assert.equal(await store.revokeSession(session.id, 'someone-else'), false, "another user's id does not match");
      assert.equal(await store.revokeSession(session.id, user.id), true);
      assert.equal(await store.revokeSession(session.id), false, 'revoking twice reports nothing new');
      assert.equal(await store.advanceSession(session.id, 0, new Date(), new Date(Date.now() + hour)), undefined);
      assert.deepEqual(await store.listSessions(user.id, new Date()), []);
    });

    it("revoke all of a user's sessions but one", async () => {
      const { user, session } = await newSession('sess-e');
      const other = await store.createSession({ id: randomUUID(), userId: user.id, createdAt: new Date(), expiresAt: new Date(Date.now() + hour), userAgent: null, address: null });
      assert.deepEqual(await store.revokeUserSessions(user.id, session.id), [other.id]);
      assert.deepEqual((await store.listSessions(user.id, new Date())).map((s) => s.id), [session.id]);
    });

    it('are deleted with their user, and pruned once expired', async () => {
      const { user, session } = await newSession('sess-f');
      assert.equal(await store.deleteUser(user.id, user.credentialVersion), true);
      assert.equal(await store.findSession(session.id), undefined);
      const { session: old } = await newSession('sess-g');
      assert.ok((await store.pruneSessions(new Date(Date.now() + 2 * hour))) >= 1);
      assert.equal(await store.findSession(old.id), undefined);
    });

    it('pruneSessions keeps every session that has not expired, down to the millisecond', async () => {
      const { user, session: expired } = await newSession('sess-prune');
      const expiry = expired.expiresAt.getTime();
      const later = await store.createSession({ id: randomUUID(), userId: user.id, createdAt: new Date(), expiresAt: new Date(expiry + 1), userAgent: null, address: null });
      const live = await store.createSession({ id: randomUUID(), userId: user.id, createdAt: new Date(), expiresAt: new Date(expiry + hour), userAgent: null, address: null });
      // Pruned at the first one's expiry: it goes, the others stay, and are still live sessions of the user.
      assert.ok((await store.pruneSessions(new Date(expiry))) >= 1);
      assert.equal(await store.findSession(expired.id), undefined);
      assert.deepEqual(await store.findSession(later.id), later);
      assert.deepEqual(await store.findSession(live.id), live);
      assert.deepEqual((await store.listSessions(user.id, new Date(expiry))).map((s) => s.id).sort(), [later.id, live.id].sort());
    });
  });

  describe('dates', () => {
    it('round-trip exactly to the millisecond', async () => {
      for (const expiresAt of [
        new Date(Date.UTC(2031, 0, 2, 3, 4, 5, 678)),
        new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)),
        new Date(8_640_000_000_000_000 - 1), // near the largest Date
        new Date(1),
      ]) {
        const stored = await store.addRevocation({ kind: 'session', sessionId: 'dated', expiresAt });
        const [read] = await store.revocationsSince(stored.seq - 1, new Date(0));
        assert.equal(read?.expiresAt.getTime(), expiresAt.getTime());
      }
      const user = await store.createUser(newUser('dated-user'));
      const read = await store.findUserById(user.id);
      assert.equal(read?.createdAt.getTime(), user.createdAt.getTime());
      assert.equal(read?.updatedAt.getTime(), user.updatedAt.getTime());
    });
  });

  describe('availability', () => {
    it('ping resolves while the database answers', async () => {
      await store.ping();
    });

    it('ping rejects promptly once the store is closed', async () => {
      const other = await database.open();
      await other.ping();
      await other.close();
      const result = await within(2000, other.ping());
      assert.equal(result.status, 'rejected');
    });
  });
}

describe('SQLite store', () => {
  storeSpecification(sqlite);

  describe('its file', () => {
    it('is created 0600 in a folder created 0700, and so are its WAL files', async () => {
      const dir = join(tempRoot, randomUUID(), 'nested');
      const path = join(dir, 'hush.sqlite');
      const store = await openSqliteStore(path);
      try {
        await store.migrate();
        await store.createUser(newUser('on-disk'));
        assert.equal(statSync(dir).mode & 0o777, 0o700);
        assert.equal(statSync(path).mode & 0o777, 0o600);
        assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600);
      } finally {
        await store.close();
      }
    });

    it('is narrowed to 0600 when it exists with wider permissions', async () => {
      const path = join(tempRoot, `${randomUUID()}.sqlite`);
      writeFileSync(path, '', { mode: 0o644 });
      const store = await openSqliteStore(path);
      await store.close();
      assert.equal(statSync(path).mode & 0o777, 0o600);
    });

    it('is left in WAL mode by the store', async () => {
      const path = join(tempRoot, `${randomUUID()}.sqlite`);
      const store = await openSqliteStore(path);
      await store.close();
      const db = new BetterSqlite3(path);
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        db.close();
      }
    });

    it('is opened with WAL, synchronous FULL, a 5 s busy timeout and foreign keys on', () => {
      // The other pragmas live per connection, so they are read back from one configured the
      // way openSqliteStore configures its own.
      const db = new BetterSqlite3(join(tempRoot, `${randomUUID()}.sqlite`));
      try {
        configureConnection(db);
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
        assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
        assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      } finally {
        db.close();
      }
    });

    it('read-only: a missing file is refused and not created', async () => {
      const path = join(tempRoot, randomUUID(), 'missing.sqlite');
      await assert.rejects(openSqliteStore(path, { readonly: true }));
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(dirname(path)), false);
    });

    it('read-only: reads a database another connection writes, refuses writes, and leaves its mode alone', async () => {
      const path = join(tempRoot, `${randomUUID()}.sqlite`);
      const writer = await openSqliteStore(path);
      await writer.migrate();
      chmodSync(path, 0o640);
      const reader = await openSqliteStore(path, { readonly: true });
      try {
        const notice = await writer.addRevocation({ kind: 'session', sessionId: 'seen-by-reader', expiresAt: new Date(Date.now() + 60_000) });
        assert.deepEqual(await reader.revocationsSince(notice.seq - 1, new Date()), [notice]);
        await assert.rejects(reader.addRevocation({ kind: 'session', sessionId: 'nope', expiresAt: new Date(Date.now() + 60_000) }), /readonly/i);
        assert.equal(statSync(path).mode & 0o777, 0o640);
      } finally {
        await reader.close();
        await writer.close();
      }
    });

    it('opening something that is not a database rejects', async () => {
      const path = join(tempRoot, `${randomUUID()}.sqlite`);
      writeFileSync(path, 'this is not a database, just some text long enough to have a header', { mode: 0o600 });
      await assert.rejects(openSqliteStore(path));
    });

    it(':memory: opens a private in-memory database', async () => {
      const store = await openSqliteStore(':memory:');
      try {
        await store.migrate();
        const user = await store.createUser(newUser('in-memory'));
        assert.deepEqual(await store.findUserById(user.id), user);
      } finally {
        await store.close();
      }
    });
  });
});


describe('PostgreSQL store', { skip: postgresSkip }, () => {
  if (postgresCiFailure) {
    const failure = postgresCiFailure;
    it('PostgreSQL is reachable (required when CI is set)', () => {
      throw failure;
    });
    return;
  }

  storeSpecification(postgres);

  describe('when the database misbehaves', () => {
    it('ping rejects within a few seconds when nothing listens on the port', async () => {
      const store = await openPostgresStore('postgres://postgres@127.0.0.1:1/hush');
      try {
        const result = await within(3000, store.ping());
        assert.equal(result.status, 'rejected');
      } finally {
        await store.close();
      }
    });

    it('ping rejects after the 2 s connection timeout when the server accepts but never answers', async () => {
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      assert.ok(address && typeof address === 'object');
      const store = await openPostgresStore(`postgres://postgres@127.0.0.1:${address.port}/hush`);
      try {
        const started = Date.now();
        const result = await within(5000, store.ping());
        assert.equal(result.status, 'rejected');
        assert.ok(Date.now() - started >= 1500, 'rejected by the connection timeout, not before');
      } finally {
        await store.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('survives its connections being killed: onError hears of it, and the next query reconnects', async () => {
      const database = await createTestPostgresDatabase();
      const errors: Error[] = [];
      const store = await openPostgresStore(database.url, { onError: (error) => errors.push(error) });
      try {
        await store.migrate();
        await store.ping();
        const admin = new pg.Client(database.url);
        await admin.connect();
        try {
          await admin.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
          );
        } finally {
          await admin.end();
        }
        await sleep(200);
        assert.ok(errors.length >= 1, 'the idle connection error reached onError');
        await store.ping();
      } finally {
        await store.close();
        await database.drop();
      }
    });

    it('rejects a malformed URL without repeating it (it may hold a password)', async () => {
      await assert.rejects(openPostgresStore('postgres://user:s3cret@[bad'), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.doesNotMatch(`${error.message} ${JSON.stringify(error)}`, /s3cret/);
        return true;
      });
    });
  });
});

describe('openStore', () => {
  it('opens PostgreSQL for postgres:// and postgresql:// URLs, without connecting yet', async () => {
    for (const url of ['postgres://postgres@127.0.0.1:1/x', 'postgresql://postgres@127.0.0.1:1/x']) {
      const store = await openStore(url);
      assert.equal(store.kind, 'postgres');
      await store.close();
    }
  });

  it('opens a SQLite file for anything else', async () => {
    const store = await openStore(join(tempRoot, randomUUID(), 'db.sqlite'));
    assert.equal(store.kind, 'sqlite');
    await store.close();
  });
});
