/**
 * The rotating strategy: one row per session, and a new refresh token on every refresh.
 *
 * A token is an HMAC (a JWS under the user's derived key) over (session id, counter), so nothing
 * secret is stored and the server can recompute any token of a session byte for byte. A refresh is
 * a compare-and-swap on the counter, so concurrent refreshes — on any number of instances — rotate
 * exactly once and all receive the same successor. A replaced token shown again yields its own
 * successor while that successor is unused or was first used less than the reuse grace ago (tabs
 * racing, a response lost to a crashed instance); shown later, it is taken for a stolen copy and
 * the whole session is revoked.
 */
import { randomBytes } from 'node:crypto';
import type { SessionRecord, Store, UserRecord } from '../../store/types.js';
import { invalidRefreshToken, notFound } from '../errors.js';
import { nextExpiry, type SessionInfo, type SessionStrategy, type SessionTokens, type StrategyDeps } from './types.js';

const TYP = 'hush-rrt+jwt';
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** `text` without control characters (which PostgreSQL text may not even hold). */
function printable(text: string | undefined): string | undefined {
  return text === undefined ? undefined : [...text].filter((c) => c >= ' ' && c !== '\u007f').join('');
}
/** Compare-and-swap attempts before giving up on a session that keeps moving under us. */
const MAX_ATTEMPTS = 5;

export interface RotatingDeps extends StrategyDeps {
  readonly store: Store;
  /** Ends the session's outstanding access tokens (the revocation feed). */
  readonly revokeAccess: (sid: string) => Promise<void>;
  /** Told when a replaced token is shown after the grace: likely theft. */
  readonly onReuse?: (session: SessionRecord) => void;
}

/** Creates the rotating strategy. */
export function rotatingSessions({ codec, policy, store, revokeAccess, onReuse }: RotatingDeps): SessionStrategy {
  const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);
  const tokensFor = (user: UserRecord, session: SessionRecord, counter: number): SessionTokens => ({
    sid: session.id,
    authTime: seconds(session.createdAt),
    refreshToken: codec.sign(user, TYP, { sub: user.id, sid: session.id, ctr: counter }),
    refreshMaxAge: Math.max(0, Math.floor((session.expiresAt.getTime() - policy.clock()) / 1000)),
  });

  const endSession = async (session: SessionRecord): Promise<void> => {
    await store.revokeSession(session.id);
    await revokeAccess(session.id);
  };

  const live = (session: SessionRecord | undefined, user: UserRecord): session is SessionRecord =>
    session !== undefined && session.userId === user.id && !session.revoked && session.expiresAt.getTime() > policy.clock();

  const verify = (user: UserRecord, token: string): { sid: string; ctr: number } => {
    const claims = codec.verify(token, user, TYP);
    const { sid, ctr } = claims;
    if (typeof sid !== 'string' || typeof ctr !== 'number' || !Number.isSafeInteger(ctr) || ctr < 0) throw invalidRefreshToken();
    return { sid, ctr };
  };

  return {
    kind: 'rotating',
    subjectOf: (token) => codec.peekSubject(token),

    async start(user, origin) {
      const now = policy.clock();
      const exp = nextExpiry(policy, Math.floor(now / 1000));
      if (exp === undefined) throw invalidRefreshToken();
      const session = await store.createSession({
        id: randomBytes(16).toString('base64url'),
        userId: user.id,
        createdAt: new Date(now),
        expiresAt: new Date(exp * 1000),
        // Printable text only, bounded: it is shown back to the user in the session list.
        userAgent: printable(origin.userAgent)?.slice(0, 512) ?? null,
        address: origin.address,
      });
      return tokensFor(user, session, 0);
    },

    async refresh(user, token) {
      const { sid, ctr } = verify(user, token);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const session = await store.findSession(sid);
        if (!live(session, user)) throw invalidRefreshToken();
        const now = policy.clock();
        const latest = session.counter;
        if (ctr === latest) {
          const exp = nextExpiry(policy, seconds(session.createdAt));
          if (exp === undefined) throw invalidRefreshToken();
          const advanced = await store.advanceSession(sid, latest, new Date(now), new Date(exp * 1000));
          if (advanced) return tokensFor(user, advanced, latest + 1);
          continue; // another request rotated it first: look again, as a replaced token
        }
        if (ctr === latest - 1) return tokensFor(user, session, latest); // its successor is unused
        if (ctr === latest - 2 && session.rotatedAt && now - session.rotatedAt.getTime() < policy.reuseGrace * 1000) {
          return tokensFor(user, session, latest - 1); // its successor was first used within the grace
        }
        if (ctr > latest) throw invalidRefreshToken();
        onReuse?.(session);
        await endSession(session);
        throw invalidRefreshToken();
      }
      throw invalidRefreshToken();
    },

    async continueAfterCredentialChange(user, sid, _authTime) {
      for (const ended of await store.revokeUserSessions(user.id, sid)) await revokeAccess(ended);
      if (sid === undefined) return undefined;
      const session = await store.findSession(sid);
      if (!live(session, user)) return undefined;
      // The session keeps its counter; under the new key its token is new bytes.
      return tokensFor(user, session, session.counter);
    },

    async end(user, token) {
      const { sid } = verify(user, token);
      const session = await store.findSession(sid);
      if (!session || session.userId !== user.id || session.revoked) return undefined;
      await endSession(session);
      return sid;
    },

    async list(user, currentSid) {
      const sessions = await store.listSessions(user.id, new Date(policy.clock()));
      return sessions.map(
        (s): SessionInfo => ({
          id: s.id,
          current: s.id === currentSid,
          createdAt: s.createdAt.toISOString(),
          lastUsedAt: s.lastUsedAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
          userAgent: s.userAgent,
          address: s.address,
        }),
      );
    },

    async endById(user, sid) {
      // Session ids are base64url; anything else is unknown without asking the database.
      const session = SESSION_ID.test(sid) ? await store.findSession(sid) : undefined;
      if (!live(session, user)) throw notFound('There is no such session.');
      await endSession(session);
    },
  };
}
