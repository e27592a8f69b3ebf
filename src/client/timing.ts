/**
 * How long before expiry to refresh a token that lives `lifeMs`: max(60 s, 15 % of the lifetime), never more
 * than half of it, shortened by up to 10 % at random so that tabs holding the same token don't all refresh
 * in the same instant (the first one shares its result with the others).
 */
export function refreshLead(lifeMs: number, random: number = Math.random()): number {
  return Math.min(lifeMs / 2, Math.max(60_000, lifeMs * 0.15)) * (1 - random / 10);
}

/**
 * Delay before retry number `attempt` (0-based) of a failed refresh: full jitter over 200 ms·2ⁿ capped at
 * 30 s, and never sooner than the server's `Retry-After`.
 */
export function backoffDelay(attempt: number, retryAfterSeconds?: number, random: number = Math.random()): number {
  return Math.max(random * Math.min(30_000, 200 * 2 ** attempt), (retryAfterSeconds ?? 0) * 1000);
}
