/**
 * The answers a guard gives instead of letting a request through, built once at module load: a
 * refused request costs no serialisation and no allocation. Per RFC 6750 §3 and the contract, a 401
 * carries `WWW-Authenticate: Bearer realm="hush"`, with `error="invalid_token"` when a token was sent.
 * Descriptions are fixed texts: they never echo the token or say which check failed beyond "expired"
 * and "revoked", which the holder of the token can tell anyway.
 */

/** The contract's error codes a guard can answer with. */
export type GuardErrorCode = 'missing_token' | 'invalid_token' | 'unavailable';

/** Why a guard refused a request, and the exact HTTP answer to send. */
export class GuardRejection {
  /** 401, or 503 while the JWKS cannot be fetched. */
  readonly status: 401 | 503;
  /** The contract's error code. */
  readonly code: GuardErrorCode;
  /** Text for people; never contains a token, a key or a secret. */
  readonly description: string;
  /** The JSON body, already serialised: `{"error":…,"error_description":…}`. */
  readonly body: string;
  /** Response headers, lower-case names (content type included). */
  readonly headers: Readonly<Record<string, string>>;

  /** @internal rejections are the fixed constants below */
  constructor(status: 401 | 503, code: GuardErrorCode, description: string, extraHeaders: Readonly<Record<string, string>>) {
    this.status = status;
    this.code = code;
    this.description = description;
    this.body = JSON.stringify({ error: code, error_description: description });
    this.headers = Object.freeze({ 'content-type': 'application/json; charset=utf-8', ...extraHeaders });
    Object.freeze(this);
  }
}

const NO_TOKEN_CHALLENGE = { 'www-authenticate': 'Bearer realm="hush"' };
const BAD_TOKEN_CHALLENGE = { 'www-authenticate': 'Bearer realm="hush", error="invalid_token"' };

/** No `Authorization: Bearer <token>` header (another scheme counts as none). */
export const MISSING_TOKEN = new GuardRejection(401, 'missing_token', 'An access token is required.', NO_TOKEN_CHALLENGE);
/** A token that failed any check other than expiry: signature, algorithm, `typ`, `iss`, `aud`, shape, size. */
export const INVALID_TOKEN = new GuardRejection(401, 'invalid_token', 'The access token is invalid.', BAD_TOKEN_CHALLENGE);
/** A well-formed token whose `exp` has passed. */
export const EXPIRED_TOKEN = new GuardRejection(401, 'invalid_token', 'The access token has expired.', BAD_TOKEN_CHALLENGE);
/** A valid token the `revocations` hook refused. */
export const REVOKED_TOKEN = new GuardRejection(401, 'invalid_token', 'The access token has been revoked.', BAD_TOKEN_CHALLENGE);
/**
 * The JWKS could not be fetched and no keys are known yet: the token may well be good, so this is not
 * the client's fault and a refresh would not help.
 */
export const KEYS_UNAVAILABLE = new GuardRejection(
  503,
  'unavailable',
  'The keys to verify access tokens cannot be fetched right now.',
  { 'retry-after': '5' },
);
