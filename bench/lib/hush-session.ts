/** Signs a user up on a running hush server over HTTP and keeps what a client would: token and cookie. */
import { randomBytes } from 'node:crypto';

export interface Session {
  readonly username: string;
  readonly password: string;
  readonly accessToken: string;
  /** `name=value` of the refresh cookie, ready for a `Cookie` header. */
  readonly refreshCookie: string;
}

/** A fresh random username that hush accepts (3–64 of `[A-Za-z0-9._-@]`). */
export function randomUsername(prefix = 'bench'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** `POST /auth/signup` for a new random user; throws unless hush answers 201. */
export async function signUp(baseUrl: string): Promise<Session> {
  const username = randomUsername();
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const response = await fetch(`${baseUrl}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 201) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { access_token: string };
  const cookie = response.headers.getSetCookie().find((c) => /hush-refresh=/.test(c));
  if (cookie === undefined) throw new Error('signup set no refresh cookie');
  return { username, password, accessToken: body.access_token, refreshCookie: cookie.split(';')[0]! };
}
