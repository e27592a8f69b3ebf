/**
 * One autocannon run, with latencies recorded exactly: autocannon's own histogram keeps whole
 * milliseconds, too coarse for p99s of 1–5 ms, so every response time is collected here instead.
 */
import autocannon from 'autocannon';
import { percentile } from './stats.js';

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly connections: number;
  /** Seconds. */
  readonly duration: number;
}

export interface LoadResult {
  /** Responses per second, every status counted. */
  readonly rps: number;
  /** 2xx responses per second. */
  readonly okRps: number;
  /** Latency percentiles over 2xx responses, in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly responses: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
}

/** Runs autocannon against `options.url` and resolves with its exact statistics. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  // Sized for the fastest target (~50k req/s) so the hot path never grows an array.
  const latencies = new Float64Array(Math.max(1024, options.duration * 120_000));
  let n = 0;
  const instance = autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    connections: options.connections,
    duration: options.duration,
    pipelining: 1,
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
    if (statusCode >= 200 && statusCode < 300 && n < latencies.length) latencies[n++] = ms;
  });
  const result = await instance;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats)) statusCodes[code] = stat.count;
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const sample = latencies.subarray(0, n);
  return {
    rps: responses / result.duration,
    okRps: result['2xx'] / result.duration,
    p50: percentile(sample, 50),
    p99: percentile(sample, 99),
    responses,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
  };
}
