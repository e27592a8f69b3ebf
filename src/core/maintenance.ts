/**
 * Housekeeping: expired revocation notices and expired sessions are deleted now and then, so the
 * tables hold only what can still matter. Every instance may do it; the deletes are idempotent.
 */
import type { Store } from '../store/types.js';

/** How often to clean up. */
export const MAINTENANCE_INTERVAL_MS = 10 * 60_000;

/** Deletes what has expired at `now`; resolves to the counts. */
export async function pruneExpired(store: Store, now = new Date()): Promise<{ revocations: number; sessions: number }> {
  return { revocations: await store.pruneRevocations(now), sessions: await store.pruneSessions(now) };
}

/** Runs {@link pruneExpired} every {@link MAINTENANCE_INTERVAL_MS}; returns the stop function. */
export function startMaintenance(store: Store, onError: (error: unknown) => void): () => void {
  const timer = setInterval(() => {
    pruneExpired(store).catch(onError);
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
