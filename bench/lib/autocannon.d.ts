/** The slice of autocannon's programmatic API the benchmarks use (it ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';

  /** What `setupRequest` receives and returns: one request, before it is serialised. */
  interface RequestParams {
    method?: Method;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }

  /**
   * One step of a connection's request sequence. `context` is per connection, emptied each time the
   * sequence starts over; with a one-step sequence it lives from a request's `setupRequest` to its
   * `onResponse`. (Method syntax: a step may narrow the context to the fields it keeps.)
   */
  interface Request extends RequestParams {
    setupRequest?(request: RequestParams, context: Record<string, unknown>): RequestParams;
    onResponse?(status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>): void;
  }

  interface Options {
    url: string;
    method?: Method;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    /** Stop after this many responses in total (then `duration` is ignored); at least `connections`. */
    amount?: number;
    overallRate?: number;
    timeout?: number;
    excludeErrorStats?: boolean;
    /** Each connection cycles through these in order. */
    requests?: Request[];
  }

  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p99: number;
  }

  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    '4xx': number;
    '5xx': number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram & { sent: number };
  }

  interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void;
  }

  function autocannon(options: Options): Instance;
  export default autocannon;
  export type { Instance, Options, Request, RequestParams, Result };
}
