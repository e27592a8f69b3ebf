/**
 * The errors the auth service raises. Each carries the contract's stable error code and the HTTP
 * status it maps to, so the HTTP layer translates without a lookup table of its own.
 * Messages are for people and never contain a secret.
 */

/** The contract's error codes. */
export type AuthErrorCode =
  | 'invalid_request'
  | 'invalid_credentials'
  | 'missing_token'
  | 'invalid_token'
  | 'invalid_refresh_token'
  | 'account_suspended'
  | 'csrf_failed'
  | 'not_found'
  | 'not_supported'
  | 'username_taken'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable';

/** Base class: an error the contract names, with its status. */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  readonly status: number;
  /** Seconds after which a retry may succeed (429 and 503). */
  readonly retryAfter: number | undefined;

  constructor(code: AuthErrorCode, status: number, message: string, retryAfter?: number) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** 400: a field is missing, of the wrong type or out of bounds. */
export const invalidRequest = (message: string): AuthError => new AuthError('invalid_request', 400, message);
/** 401 at login; 403 (status given) for a wrong current password. */
export const invalidCredentials = (status: 401 | 403 = 401): AuthError =>
  new AuthError('invalid_credentials', status, 'The username or password is incorrect.');
export const missingToken = (): AuthError => new AuthError('missing_token', 401, 'An access token is required.');
/** Why an access token was refused; server-side refresh steps in only for `expired`. */
export type TokenProblem = 'expired' | 'revoked' | 'invalid';

/** 401 `invalid_token`, saying why. */
export class InvalidTokenError extends AuthError {
  readonly problem: TokenProblem;
  constructor(problem: TokenProblem) {
    super('invalid_token', 401, TOKEN_MESSAGES[problem]);
    this.name = 'InvalidTokenError';
    this.problem = problem;
  }
}

const TOKEN_MESSAGES: Record<TokenProblem, string> = {
  expired: 'The access token has expired.',
  revoked: 'The access token has been revoked.',
  invalid: 'The access token is invalid.',
};

export const invalidToken = (problem: TokenProblem = 'invalid'): InvalidTokenError => new InvalidTokenError(problem);
export const invalidRefreshToken = (): AuthError =>
  new AuthError('invalid_refresh_token', 401, 'The session has ended; sign in again.');
export const accountSuspended = (): AuthError =>
  new AuthError('account_suspended', 403, 'This account is suspended.');
export const notFound = (message = 'Not found.'): AuthError => new AuthError('not_found', 404, message);
export const notSupported = (message: string): AuthError => new AuthError('not_supported', 404, message);
export const usernameTaken = (): AuthError => new AuthError('username_taken', 409, 'That username is taken.');
export const rateLimited = (retryAfter: number): AuthError =>
  new AuthError('rate_limited', 429, 'Too many attempts; try again later.', retryAfter);
export const unavailable = (retryAfter: number, message = 'The service is temporarily unavailable.'): AuthError =>
  new AuthError('unavailable', 503, message, retryAfter);
