/**
 * Error responses: every failure leaves as the contract's JSON `{error, error_description}` with
 * a 4xx for anything the client did, 503 when a dependency is down, and a stack trace never.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, InvalidTokenError, unavailable } from '../core/errors.js';
import { HashingQueueFullError } from '../core/password.js';
import type { Logger } from './log.js';

/** The `WWW-Authenticate` challenge of Bearer-protected routes (RFC 6750). */
export const BEARER_REALM = 'Bearer realm="hush"';

/** Sends `error` as the contract's JSON error body with its status and headers. */
export function sendAuthError(reply: FastifyReply, error: AuthError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfter))));
  if (error instanceof InvalidTokenError) reply.header('www-authenticate', `${BEARER_REALM}, error="invalid_token"`);
  else if (error.code === 'missing_token') reply.header('www-authenticate', BEARER_REALM);
  return reply
    .code(error.status)
    .header('cache-control', 'no-store')
    .send({ error: error.code, error_description: error.message });
}

/** Fastify's own client errors, by code, in the contract's terms. */
const FASTIFY_CODES: Record<string, AuthError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: new AuthError('unsupported_media_type', 415, 'The body must be JSON (Content-Type: application/json).'),
  FST_ERR_CTP_BODY_TOO_LARGE: new AuthError('payload_too_large', 413, 'The body must be at most 16 KiB.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: new AuthError('invalid_request', 400, 'The body must be a JSON object.'),
  FST_ERR_CTP_INVALID_JSON_BODY: new AuthError('invalid_request', 400, 'The body is not valid JSON.'),
};

/** Error codes of databases that is down or unreachable, as opposed to a bug. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_READONLY',
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006',
]);

function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR'))) return true;
  const message = error instanceof Error ? error.message : '';
  return /timeout exceeded when trying to connect|Query read timeout|Connection terminated|connect ECONNREFUSED|pool is closed/i.test(message);
}

/** Translates any thrown error into a contract error. */
export function toAuthError(error: unknown): AuthError | undefined {
  if (error instanceof AuthError) return error;
  if (error instanceof HashingQueueFullError) return unavailable(error.retryAfter, 'The server is busy; try again shortly.');
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation) {
    return new AuthError('invalid_request', 400, `Invalid request: ${fastify.message ?? 'bad field'}`.slice(0, 300));
  }
  if (typeof fastify.code === 'string' && FASTIFY_CODES[fastify.code]) return FASTIFY_CODES[fastify.code];
  if (error instanceof SyntaxError) return FASTIFY_CODES['FST_ERR_CTP_INVALID_JSON_BODY'];
  const status = fastify.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return FASTIFY_CODES['FST_ERR_CTP_BODY_TOO_LARGE'];
    if (status === 415) return FASTIFY_CODES['FST_ERR_CTP_INVALID_MEDIA_TYPE'];
    if (status === 404) return new AuthError('not_found', 404, 'Not found.');
    return new AuthError('invalid_request', 400, 'The request is malformed.');
  }
  if (isUnavailable(error)) return unavailable(2, 'The database is unavailable; try again shortly.');
  return undefined;
}

/** The Fastify error handler: contract errors as they are, unknown ones as an opaque 500, logged without secrets. */
export function createErrorHandler(log: Logger) {
  return function errorHandler(error: unknown, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const known = toAuthError(error);
    if (known) {
      if (known.status === 503) log.warn({ code: errorCode(error) }, 'dependency unavailable');
      return sendAuthError(reply, known);
    }
    log.error({ code: errorCode(error), name: error instanceof Error ? error.name : typeof error }, 'unexpected error');
    return reply
      .code(500)
      .header('cache-control', 'no-store')
      .send({ error: 'server_error', error_description: 'Something went wrong on our side.' });
  };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The client errors Node's HTTP parser raises before a request exists, as contract errors. */
const CLIENT_ERRORS: Record<string, readonly [status: number, reason: string, code: string, description: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are too large (at most 16 KiB in all).'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout', 'The request took too long to arrive.'],
};
const MALFORMED = [400, 'Bad Request', 'invalid_request', 'The request is malformed.'] as const;

/**
 * Fastify's `clientErrorHandler`: answers what the HTTP parser refused (headers over the limit
 * with 431, a request that never finished with 408, anything else with 400) in the contract's JSON
 * error format, then closes the connection, whose state is unknown.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, description] = (error.code !== undefined ? CLIENT_ERRORS[error.code] : undefined) ?? MALFORMED;
  const body = JSON.stringify({ error: code, error_description: description });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
