import { readClaims } from './claims.js';
import { AuthError } from './error.js';
import { backoffDelay, refreshLead } from './timing.js';
import type { AuthClient, AuthClientOptions, AuthEvent, AuthState, AuthUser } from './types.js';

/** The body of every token response of the auth API. */
interface TokenResponse {
  access_token: string;
  expires_in: number;
  user: AuthUser;
}

/**
 * What tabs tell each other: a token one of them received at `at` (this device's clock), or a sign-out.
 * `out` is 0 for a logout, which always wins; otherwise it is when the refresh that was refused was sent, so
 * a tab holding a token received after that (a login elsewhere) ignores the stale news.
 */
type TabMessage = { r: TokenResponse; at: number } | { out: number };

type EventType = AuthEvent['type'];

/** Key of the own-origin hint that a session may exist. Its value is a constant, never a secret. */
const HINT = 'hush:session';
/** Moments a sleeping device or a throttled background tab may have missed a timer. */
const WAKE_EVENTS = ['visibilitychange', 'pageshow', 'online', 'focus'];
const CALL_TIMEOUT = 15_000;
const LOCK_TIMEOUT = 5_000;
const LOCK_SETTLE = 50;
const LOCK = 'hush:auth';

const now = (): number => Date.now();

function readHint(): unknown {
  try {
    return localStorage.getItem(HINT);
  } catch {
    return 1; // storage unusable: we can't know, so ask the server
  }
}

function writeHint(on: boolean): void {
  try {
    if (on) localStorage.setItem(HINT, '1');
    else localStorage.removeItem(HINT);
  } catch {
    // storage unusable: start-up will simply always try a refresh
  }
}

/**
 * Runs `task` under a cross-tab Web Lock when the browser has them, so that tabs don't refresh at the same
 * time. The lock is only an optimisation: if it isn't granted within a few seconds, or can't be had at all,
 * the task runs anyway. A tab that had to wait pauses briefly once granted, so that the token the previous
 * holder just shared reaches it first. Tasks given here make network calls only, never application callbacks.
 */
async function withLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = globalThis.navigator?.locks;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), LOCK_TIMEOUT);
  let granted = false;
  const run = async (waited?: boolean): Promise<T> => {
    granted = true;
    clearTimeout(timer);
    if (waited) await new Promise((resolve) => setTimeout(resolve, LOCK_SETTLE));
    return task();
  };
  try {
    return (await locks!.request(LOCK, { ifAvailable: true }, (lock) =>
      lock ? run() : locks!.request(LOCK, { signal: abort.signal }, () => run(true)),
    )) as T;
  } catch (error) {
    if (granted) throw error;
    clearTimeout(timer);
    return task();
  }
}

/**
 * Creates the browser client of a hush auth server: it keeps the access token in memory only, restores the
 * session at start-up with one silent refresh (skipped when this origin's hint says there is none), refreshes
 * ahead of expiry, retries a request once after a 401 `invalid_token`, backs off on transient failures while
 * staying signed in, and shares tokens and sign-outs with the app's other tabs.
 */
export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  const page = globalThis.location?.href;
  const base = new URL(options.baseUrl ?? '/auth', page).href.replace(/\/+$/, '');
  const origins = new Set([base, ...(options.apiOrigins ?? [])].map((url) => new URL(url, page).origin));
  const listeners = new Set<(event: AuthEvent) => void>();
  let state: AuthState = 'loading';
  let user: AuthUser | null = null;
  let token: string | null = null;
  /** When the current token was received, or the client signed out: older news from other tabs is ignored. */
  let changedAt = 0;
  let expiresAt = 0;
  /** When the next refresh is due: ahead of expiry, or the next retry after a failure. */
  let nextAt = 0;
  let failures = 0;
  let lastError: AuthError | undefined;
  /** Bumped by every sign-out, so that a refresh that was in flight then is discarded. */
  let epoch = 0;
  let inflight: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let channel: BroadcastChannel | undefined;

  const emit = (type: EventType, error?: AuthError): void => {
    for (const listener of [...listeners]) {
      try {
        listener({ type, user, error });
      } catch (thrown) {
        // one faulty listener must neither stop the others nor break the client: report it asynchronously
        setTimeout(() => {
          throw thrown;
        });
      }
    }
  };

  const schedule = (): void => {
    clearTimeout(timer);
    if (state !== 'anonymous') timer = setTimeout(check, Math.min(nextAt - now(), 2e9));
  };

  // Timers are late after sleep and in background tabs, so the wall clock decides, on every wake-up.
  const check = (): void => {
    if (state !== 'anonymous' && now() >= nextAt) void refresh();
    else schedule();
  };

  const post = (message: TabMessage): void => channel?.postMessage(message);

  /** Commits a token (state, hint, timer, other tabs) and returns the event to emit once outside any lock. */
  const commit = (r: TokenResponse, at: number, share?: boolean): EventType => {
    if (typeof r.access_token !== 'string' || !r.user) throw new AuthError(0, 'invalid_response');
    const life = Math.max(+r.expires_in || 0, 1) * 1000;
    const type: EventType = state === 'authenticated' && user?.id === r.user.id ? 'refreshed' : 'signed_in';
    token = r.access_token;
    user = r.user;
    state = 'authenticated';
    changedAt = at;
    // from receipt time and expires_in, never the device clock against `exp`: a wrong clock can't loop
    expiresAt = at + life;
    nextAt = expiresAt - refreshLead(life);
    failures = 0;
    lastError = undefined;
    writeHint(true);
    schedule();
    if (share) post({ r, at });
    return type;
  };

  const signOut = (message?: TabMessage): void => {
    const was = state;
    epoch++;
    changedAt = now();
    token = user = null;
    state = 'anonymous';
    failures = 0;
    writeHint(false);
    clearTimeout(timer);
    if (message) post(message);
    if (was !== 'anonymous') emit('signed_out');
  };

  /** POSTs to the auth API; resolves with the JSON body of a 2xx, rejects with an AuthError otherwise. */
  const call = async (path: string, body?: object, bearer?: string | null): Promise<TokenResponse> => {
    const headers: Record<string, string> = { 'x-requested-with': 'fetch' };
    if (body) headers['content-type'] = 'application/json';
    if (bearer) headers.authorization = 'Bearer ' + bearer;
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), CALL_TIMEOUT);
    let res: Response;
    try {
      res = await fetch(base + path, {
        method: 'POST',
        credentials: 'include',
        headers,
        body: body && JSON.stringify(body),
        signal: abort.signal,
      });
    } catch {
      throw new AuthError(0, 'network_error');
    } finally {
      clearTimeout(timeout);
    }
    const json = (await res.json().catch(() => ({}))) as TokenResponse & { error?: string; error_description?: string };
    if (res.ok) return json;
    throw new AuthError(res.status, json.error || 'http_' + res.status, json.error_description, res.headers.get('retry-after'));
  };

  /** The one refresh in flight, shared by every caller; never rejects, the outcome is in the state. */
  const refresh = (): Promise<void> =>
    (inflight ||= (async () => {
      const before = token;
      const started = epoch;
      const sentAt = now();
      let type: EventType | undefined;
      let error: AuthError | undefined;
      try {
        type = await withLock(async () => {
          // another tab shared a token, or we were signed out, while we waited for the lock
          if (token !== before || epoch !== started) return undefined;
          const r = await call('/refresh');
          return epoch === started ? commit(r, now(), true) : undefined;
        });
      } catch (thrown) {
        if (token === before && epoch === started) {
          error = thrown instanceof AuthError ? thrown : new AuthError(0, 'network_error');
        }
      }
      inflight = null;
      if (error?.code === 'invalid_refresh_token') signOut({ out: sentAt });
      else if (error) {
        lastError = error;
        nextAt = now() + backoffDelay(failures++, error.retryAfter);
        schedule();
        emit('refresh_failed', error);
      } else if (type) emit(type);
    })());

  const getAccessToken = async (): Promise<string | null> => {
    // expired (or never had one): refresh at once, whatever the backoff timer says
    if (state !== 'anonymous' && (!token || now() >= expiresAt || (!failures && now() >= nextAt))) await refresh();
    return state === 'authenticated' && now() < expiresAt ? token : null;
  };

  const authorizes = (url: string): boolean => origins.has(new URL(url, page).origin);

  const renew = async (rejected: string, url: string): Promise<string | null> => {
    if (!authorizes(url) || new URL(url, page).href.startsWith(base + '/')) return null;
    // the token generation check: a 401 for a token already replaced retries with the current one, no refresh
    if (rejected === token) await refresh();
    return token === rejected ? null : getAccessToken();
  };

  const adopt = (value: string | null | undefined): void => {
    if (state !== 'authenticated' || !value || value === token) return;
    const claims = readClaims(value);
    const iat = claims.iat as number;
    if (claims.sub === user!.id && iat >= (readClaims(token!).iat as number)) {
      emit(commit({ access_token: value, expires_in: (claims.exp as number) - iat, user: user! }, now(), true));
    }
  };

  const authFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input instanceof Request ? input : new URL(input, page), init);
    if (!authorizes(request.url)) return fetch(request);
    const sent = await getAccessToken();
    if (!sent && lastError && state !== 'anonymous') throw lastError;
    const once = !sent || init?.body instanceof ReadableStream;
    const send = async (bearer: string | null, r: Request): Promise<Response> => {
      if (bearer) r.headers.set('authorization', 'Bearer ' + bearer);
      const res = await fetch(r);
      adopt(res.headers.get('x-access-token'));
      return res;
    };
    // the original request is kept unsent so that its body can be replayed
    const res = await send(sent, once ? request : request.clone());
    if (once || res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate') + (await res.clone().text().catch(() => ''));
    const next = /invalid_token/.test(challenge) ? await renew(sent, request.url) : null;
    return next ? send(next, request) : res;
  };

  /** Logs in, signs up or changes the password: one cookie-changing call at a time, also across tabs. */
  const enter = async (path: string, body: object, bearer?: string | null): Promise<void> => {
    await inflight;
    emit(await withLock(async () => commit(await call(path, body, bearer), now(), true)));
  };

  const logout = async (): Promise<void> => {
    await inflight;
    try {
      await withLock(() => call('/logout').finally(() => post({ out: 0 })));
    } finally {
      signOut();
    }
  };

  try {
    channel = new BroadcastChannel(LOCK);
    channel.onmessage = ({ data }: MessageEvent<TabMessage>) => {
      if ('r' in data) {
        if (data.at > changedAt && data.r.access_token !== token) emit(commit(data.r, data.at));
      } else if (typeof data.out === 'number' && state !== 'anonymous' && !(data.out && changedAt > data.out)) signOut();
    };
  } catch {
    // no BroadcastChannel: each tab finds out at its next refresh
  }
  for (const type of WAKE_EVENTS) globalThis.addEventListener?.(type, check);

  const ready = new Promise<void>((resolve) => {
    if (!readHint()) {
      state = 'anonymous'; // no session to restore: no request
      return resolve();
    }
    const timeout = setTimeout(resolve, 15_000);
    void refresh().then(() => resolve(clearTimeout(timeout)));
  });

  return {
    ready,
    get state() {
      return state;
    },
    get user() {
      return user;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    signup: (username, password) => enter('/signup', { username, password }),
    login: (username, password) => enter('/login', { username, password }),
    logout,
    async logoutAll() {
      await call('/logout-all', undefined, await getAccessToken());
      await logout();
    },
    async changePassword(currentPassword, newPassword) {
      await enter('/password', { currentPassword, newPassword }, await getAccessToken());
    },
    getAccessToken,
    fetch: authFetch,
    authorizes,
    renew,
    adopt,
  };
}
