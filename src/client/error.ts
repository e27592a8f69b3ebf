/**
 * What a `fetch` that got no answer at all means. From a page on another origin the usual cause is CORS: the
 * browser hides the server's refusal, so say where to look.
 */
const UNREACHABLE = 'The server could not be reached (offline, or blocked by CORS: is this page’s origin in HUSH_ALLOWED_ORIGINS?)';

/**
 * The error every rejected call of the client carries: `status` is the HTTP status (0 when the server could
 * not be reached) and `code` the server's stable error code (`invalid_credentials`, `rate_limited`, …, or
 * `network_error` / `invalid_response` from the client itself).
 */
export class AuthError extends Error {
  /** Seconds the server asked us to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | undefined;

  /**
   * @param status - HTTP status, 0 for a network failure
   * @param code - stable machine-readable code
   * @param message - text for people (the server's `error_description` when there is one; for
   *   `network_error`, by default, the likely causes, CORS among them)
   * @param retryAfter - the raw `Retry-After` header: delta-seconds or an HTTP date
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message?: string,
    retryAfter?: string | null,
  ) {
    super(message || (code === 'network_error' ? UNREACHABLE : code));
    this.name = 'AuthError';
    this.retryAfter = parseRetryAfter(retryAfter);
  }
}

/** Reads a `Retry-After` value (seconds or an HTTP date) as seconds from now; undefined when absent or bad. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? +value : (Date.parse(value) - Date.now()) / 1000;
  return Number.isNaN(seconds) ? undefined : Math.max(0, seconds);
}
