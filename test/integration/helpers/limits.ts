/**
 * Helpers of the rate-limit specifications (rate-limits.test.ts, known-devices*.test.ts): the
 * contract's 429, failing until refused, client addresses through X-Forwarded-For, and the device
 * cookie.
 */
import assert from 'node:assert/strict';
import { TEST_REFRESH_SECRET, TEST_SECRET } from '../../helpers/server.js';
import { assertError, cookieNamed, sleep, type Api, type HttpReply } from './http.js';

/** Rate limits on (the default), with the fixed test secrets. */
export const LIMITED_ENV: Readonly<Record<string, string>> = { HUSH_SECRET: TEST_SECRET, HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET };
/** Failed password checks allowed per (username, address), or per known device, in a window. */
export const FAILURES_ALLOWED = 10;
export const WINDOW_SECONDS = 15 * 60;

/** Asserts 429 `rate_limited` with a `Retry-After` in whole seconds; returns it. */
export function assertRateLimited(reply: HttpReply, maxSeconds = WINDOW_SECONDS): number {
  assertError(reply, 429, 'rate_limited');
  const header = reply.headers.get('retry-after') ?? '';
  assert.match(header, /^\d+$/, `Retry-After is delta-seconds: "${header}"`);
  const seconds = Number(header);
  assert.ok(seconds >= 1 && seconds <= maxSeconds, `Retry-After ${seconds}`);
  return seconds;
}

export const from = (address: string): Record<string, string> => ({ 'x-forwarded-for': address });

/**
 * Fails `attempt` until it is refused; asserts it was refused at the 11th failure at the latest and
 * that, before that, failures were answered as such (`failureStatus`).
 */
export async function failUntilLimited(attempt: () => Promise<HttpReply>, failureStatus: number, failureCode = 'invalid_credentials'): Promise<HttpReply> {
  for (let i = 1; i <= FAILURES_ALLOWED + 1; i++) {
    const reply = await attempt();
    if (reply.status === 429) {
      assert.ok(i > 1, 'the first failure is answered, not throttled');
      return reply;
    }
    assertError(reply, failureStatus, failureCode);
  }
  assert.fail(`the ${FAILURES_ALLOWED + 1}th failed attempt was not refused`);
}

export const DEVICE_COOKIE = '__Host-hush-device';
const YEAR_SECONDS = 365 * 24 * 60 * 60;

/** The device cookie a completed sign-in sets, checked against the contract's attributes; its value. */
export function deviceCookieOf(reply: HttpReply): string {
  const cookie = cookieNamed(reply, DEVICE_COOKIE);
  assert.equal(cookie.attributes['httponly'], true);
  assert.equal(cookie.attributes['secure'], true);
  assert.equal(cookie.attributes['samesite'], 'Strict');
  assert.equal(cookie.attributes['path'], '/');
  assert.equal(cookie.attributes['domain'], undefined);
  assert.equal(cookie.attributes['max-age'], String(YEAR_SECONDS));
  assert.ok(cookie.value.length > 0);
  return cookie.value;
}

/** Addresses no other test uses: 10.x.y.z from a counter. */
let nextAddress = Math.floor(Math.random() * 1000) * 1000;
export const freshAddress = (): Record<string, string> => {
  const n = ++nextAddress;
  return from(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
};

/**
 * Strangers guess at `username` from many addresses until it is locked for everyone for at least
 * a minute (so the lock outlasts the checks that follow, on a loaded machine too): bursts of
 * parallel wrong passwords, each from its own address, waiting out shorter locks in between.
 */
export async function lockForEveryone(api: Api, username: string): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const burst = await Promise.all(Array.from({ length: 30 }, () => api.login(username, 'wrong password!', freshAddress())));
    for (const reply of burst) if (reply.status !== 429) assertError(reply, 401, 'invalid_credentials');
    const probe = await api.login(username, 'wrong password!', freshAddress());
    if (probe.status === 429) {
      const seconds = assertRateLimited(probe);
      if (seconds >= 60) return;
      await sleep(seconds * 1000 + 100);
    }
  }
  assert.fail(`${username} was never locked for a minute`);
}

