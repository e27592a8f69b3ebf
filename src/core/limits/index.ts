/** Rate limits of the contract, framework-free, over a pluggable counter store. */
export { addressKey } from './address.js';
export { ALLOWED, refuseUntil } from './counter-store.js';
export type { CounterState, CounterStore, LimitDecision } from './counter-store.js';
export { LoginThrottle } from './login-throttle.js';
export type { KnownDevice, LoginThrottleOptions } from './login-throttle.js';
export { createMemoryCounterStore } from './memory-store.js';
export type { MemoryCounterStoreOptions } from './memory-store.js';
// redis-store.js (and ioredis) is loaded only when REDIS_URL is set; import it directly.
export type { RedisCounterStoreOptions } from './redis-store.js';
export { RequestLimiter } from './request-limiter.js';
export type { RequestBucket, RequestLimiterOptions } from './request-limiter.js';
