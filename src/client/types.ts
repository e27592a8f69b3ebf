import type { AuthError } from './error.js';

/** The signed-in user as the auth server describes it. */
export interface AuthUser {
  id: string;
  username: string;
}

/** `loading` until the start-up refresh has settled the question either way. */
export type AuthState = 'loading' | 'authenticated' | 'anonymous';

/** What `onChange` listeners receive, after the client's state already reflects it. */
export interface AuthEvent {
  type: 'signed_in' | 'refreshed' | 'signed_out' | 'refresh_failed';
  /** The user after the event (null once signed out). */
  user: AuthUser | null;
  /** Why a refresh failed (`refresh_failed` only); the client stays signed in and retries with backoff. */
  error?: AuthError;
}

/** Options of {@link createAuthClient}. */
export interface AuthClientOptions {
  /** Where the auth API lives, relative to the page or absolute (same-site). Default `/auth`. */
  baseUrl?: string;
  /** Other origins (same-site API servers) that may receive the access token. Default none. */
  apiOrigins?: string[];
}

/** The browser client: memory-only access token, silent refresh, cross-tab sign-out. */
export interface AuthClient {
  /** Settles (never rejects) once the start-up silent refresh has settled, or after 15 s at most. */
  readonly ready: Promise<void>;
  readonly state: AuthState;
  readonly user: AuthUser | null;
  /** Subscribes to sign-in, refresh, sign-out and refresh-failure events; returns the unsubscribe function. */
  onChange(listener: (event: AuthEvent) => void): () => void;
  /** Creates an account and signs in. Rejects with {@link AuthError}. */
  signup(username: string, password: string): Promise<void>;
  /** Signs in. Rejects with {@link AuthError}. */
  login(username: string, password: string): Promise<void>;
  /** Ends this browser's session and signs every tab out, even if the server can't be reached (then rejects). */
  logout(): Promise<void>;
  /** Ends every session of the user on every device, then signs out here. */
  logoutAll(): Promise<void>;
  /** Changes the password; this session continues with a new token, every other one ends. */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  /** A token valid now, refreshing first when it expired or is due; null when signed out or unreachable. */
  getAccessToken(): Promise<string | null>;
  /**
   * `fetch` that sends the Bearer token to the auth server's origin and the `apiOrigins` only, adopts an
   * `x-access-token` answer for the same user, and after a 401 `invalid_token` refreshes once and retries once
   * (never for the auth API itself, nor for a streamed body). Rejects with {@link AuthError} `network_error`
   * when the user is signed in but no token can be had right now.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** For adapters: whether the access token may be sent to `url`. */
  authorizes(url: string): boolean;
  /**
   * For adapters: the token to retry with after `url` answered 401 `invalid_token` to `rejected` — the current
   * one without refreshing if `rejected` was already replaced, else the outcome of one shared refresh — or null
   * when the request must not be retried (an auth API URL, no token, sign-out, refresh failure).
   */
  renew(rejected: string, url: string): Promise<string | null>;
  /** For adapters: adopts an `x-access-token` response header value, if it is a newer token of the same user. */
  adopt(token: string | null | undefined): void;
}
