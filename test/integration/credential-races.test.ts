/**
 * Credential changes are compare-and-swaps on the credential version (README, "Design and
 * trade-offs"): a user's password change in flight can neither cancel an operator's suspension nor an
 * operator's password reset. Attack: the user loops `POST /auth/password`, each time with the token
 * and new password of the previous answer, while `hush user suspend` or `hush user set-password`
 * runs (the CLI's code, against the server's database). Afterwards no token the user ever held works and the attacker's passwords do not sign in.
 * Several users race at once, so a defect shows in (nearly) every run rather than by luck.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/store/index.js';
import {
  assertError,
  assertTokenResponse,
  eventually,
  uniqueName,
  uniquePassword,
  type Api,
  type HttpReply,
} from './helpers/http.js';
import { BASE_ENV, databases, sharedServer, type SharedServer } from './helpers/suite.js';

/** How soon every instance must refuse a revoked access token (the contract's Tokens section). */
const REVOCATION_DEADLINE_MS = 2000;
/** Users attacking at once, each with its own loop and its own operator command. */
const ATTACKERS = 3;
/**
 * How long a loop may go on after the operator's command returned. Fixed, it is refused at its next
 * change (well under a second); broken, it never is. Generous for a loaded machine.
 */
const LOOP_GRACE_MS = 10_000;

/** What the attacker holds after one answer: the token, the refresh cookie and the password it set. */
interface Holding {
  readonly token: string;
  readonly cookie: string;
  readonly password: string;
}

/** A running attack: every holding so far, and how it ends. */
interface Attack {
  readonly username: string;
  readonly held: Holding[];
  /** Every password the loop sent as a new one, the refused last one included (it may have been written). */
  readonly tried: string[];
  /** Resolves to the refusal that ended the loop, or undefined when it was stopped still succeeding. */
  readonly ended: Promise<HttpReply | undefined>;
  stop(): void;
}

/** Signs a user up and starts the password-change loop. */
async function attack(api: Api, prefix: string): Promise<Attack> {
  const username = uniqueName(prefix);
  const first = await api.session(username, uniquePassword());
  const held: Holding[] = [{ token: first.token, cookie: first.cookie, password: first.password }];
  const tried = [first.password];
  let stopped = false;
  const ended = (async () => {
    while (!stopped) {
      const current = held.at(-1)!;
      const next = uniquePassword();
      tried.push(next);
      const reply = await api.changePassword(current.token, current.password, next);
      if (reply.status !== 200) return reply;
      const session = api.sessionFrom(reply, username, next);
      held.push({ token: session.token, cookie: session.cookie, password: next });
    }
    return undefined;
  })();
  return { username, held, tried, ended, stop: () => void (stopped = true) };
}

/** Waits until every attack has changed its password at least twice: the loops are hot. */
async function whenHot(attacks: readonly Attack[]): Promise<void> {
  await eventually(async () => attacks.every((a) => a.held.length >= 3), 30_000, 'the password-change loops getting going', 20);
}

/**
 * Runs the operator's command for every attacker at once — the CLI's own `main`, in this process
 * (spawning three CLIs would cost seconds of start-up on a loaded machine, and the race the same).
 */
async function operate(shared: SharedServer, attacks: readonly Attack[], args: (a: Attack) => string[], stdin = ''): Promise<void> {
  const results = await Promise.all(
    attacks.map(async (a) => {
      let stderr = '';
      const io = { stdout: () => undefined, stderr: (text: string) => void (stderr += text), stdin: async () => stdin };
      return { code: await main(args(a), io, { ...shared.server.env }), stderr };
    }),
  );
  for (const result of results) assert.equal(result.code, 0, result.stderr);
}

/**
 * Lets each loop run on until it is refused (at most the grace), and asserts how: 401 `invalid_token`
 * (its token was revoked, or its change lost the race), or — after a reset that landed between the
 * token check and the current-password check — 403 `invalid_credentials`.
 */
async function assertLoopsRefused(attacks: readonly Attack[], wrongPasswordPossible: boolean): Promise<void> {
  const deadline = setTimeout(() => attacks.forEach((a) => a.stop()), LOOP_GRACE_MS);
  try {
    for (const a of attacks) {
      const refusal = await a.ended;
      assert.ok(refusal, `${a.username}: the password-change loop still succeeded ${LOOP_GRACE_MS} ms after the operator's command`);
      if (wrongPasswordPossible && refusal.status === 403) assertError(refusal, 403, 'invalid_credentials');
      else assertError(refusal, 401, 'invalid_token');
    }
  } finally {
    clearTimeout(deadline);
  }
}

/** No access token (within 2 s of the command) or refresh cookie the attacker ever held works any more. */
async function assertNothingWorks(api: Api, attacks: readonly Attack[], operatedAt: number): Promise<void> {
  const held = attacks.flatMap((a) => a.held);
  await eventually(
    async () => (await Promise.all(held.map(async (h) => (await api.private(h.token)).status))).every((s) => s === 401),
    Math.max(0, REVOCATION_DEADLINE_MS - (Date.now() - operatedAt)),
    'refusing every access token the attackers held',
  );
  for (const h of held) {
    assertError(await api.me(h.token), 401, 'invalid_token');
    assertError(await api.refresh(h.cookie), 401, 'invalid_refresh_token');
  }
}

for (const { database, skip } of await databases()) {
  for (const strategy of ['stateless', 'rotating'] as const) {
    describe(`credential races (${database}, ${strategy})`, { skip }, () => {
      const shared = sharedServer(database, { ...BASE_ENV, HUSH_REFRESH_STRATEGY: strategy });

      it('a password change in flight cannot cancel `hush user suspend`: no token works afterwards and login is 403', async () => {
        const attacks = await Promise.all(Array.from({ length: ATTACKERS }, () => attack(shared.api, 'race-susp')));
        await whenHot(attacks);
        await operate(shared, attacks, (a) => ['user', 'suspend', a.username]);
        const operatedAt = Date.now();
        await assertLoopsRefused(attacks, false);
        await assertNothingWorks(shared.api, attacks, operatedAt);
        for (const a of attacks) {
          // The suspension stands whichever password the user set last: no new session either. The
          // last change refused may still have been written (it won its race, then lost the session
          // to the suspension), so the current password is one of the last two tried.
          const statuses = [];
          for (const password of a.tried) {
            const login = await shared.api.login(a.username, password);
            assert.equal(login.cookies.length, 0, 'no refresh cookie for a suspended user');
            if (login.status === 403) assertError(login, 403, 'account_suspended');
            else assertError(login, 401, 'invalid_credentials');
            statuses.push(login.status);
          }
          assert.equal(statuses.filter((s) => s === 403).length, 1, 'the one current password is proven, and refused as suspended');
          assert.ok(statuses.slice(-2).includes(403), 'the current password is one of the last two tried');
        }
      });

      it("a password change in flight cannot cancel `hush user set-password`: the operator's password wins", async () => {
        const attacks = await Promise.all(Array.from({ length: ATTACKERS }, () => attack(shared.api, 'race-reset')));
        const operatorPassword = uniquePassword();
        shared.api.remember(operatorPassword);
        await whenHot(attacks);
        await operate(shared, attacks, (a) => ['user', 'set-password', a.username], `${operatorPassword}\n`);
        const operatedAt = Date.now();
        await assertLoopsRefused(attacks, true);
        await assertNothingWorks(shared.api, attacks, operatedAt);
        for (const a of attacks) {
          for (const password of a.tried) assertError(await shared.api.login(a.username, password), 401, 'invalid_credentials');
          assertTokenResponse(await shared.api.login(a.username, operatorPassword), 200, a.username);
        }
      });

      it('GET /auth/me refuses a token whose credential version the store has moved past, though no revocation notice was published', async () => {
        const session = await shared.api.session(uniqueName('stale'), uniquePassword());
        // Behind the server's back: a version bump with no notice, as when the feed lags behind the store.
        const store = await openStore(loadConfig({ ...shared.server.env }).databaseUrl);
        try {
          const user = await store.findUserById(session.user.id);
          assert.ok(user && (await store.bumpCredentialVersion(user.id, user.credentialVersion)));
        } finally {
          await store.close();
        }
        const reply = await shared.api.me(session.token);
        assertError(reply, 401, 'invalid_token');
        assert.match(reply.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      });
    });
  }
}
