/**
 * Error classes of hush-auth/jwt. Every error has a stable `code`; messages are fixed texts that never
 * contain the token, a key, or any attacker-chosen header value (a `kid` may hold anything).
 */

/** Base class of every error hush-auth/jwt throws. Branch on `code`, not on the message. */
export class JwtError extends Error {
  /** Stable machine-readable code, e.g. `ERR_JWT_EXPIRED`. */
  readonly code: string;

  /** @param code stable code; @param message fixed text without secrets or token content */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The token is not a well-formed compact JWS/JWT (segments, base64url, UTF-8, JSON, header members). */
export class JwtMalformedError extends JwtError {
  /** @param message fixed description of what is wrong */
  constructor(message = 'malformed token') {
    super('ERR_JWT_MALFORMED', message);
  }
}

/** The token is longer than the verifier's `maxTokenLength`. */
export class JwtTooLargeError extends JwtError {
  constructor() {
    super('ERR_JWT_TOO_LARGE', 'token exceeds the maximum length');
  }
}

/** The signature does not verify under the selected key. */
export class JwsSignatureInvalidError extends JwtError {
  constructor() {
    super('ERR_JWS_SIGNATURE_INVALID', 'signature verification failed');
  }
}

/** `exp` has passed (beyond the leeway). */
export class JwtExpiredError extends JwtError {
  constructor() {
    super('ERR_JWT_EXPIRED', 'token has expired');
  }
}

/** `nbf` is still in the future (beyond the leeway). */
export class JwtNotYetValidError extends JwtError {
  constructor() {
    super('ERR_JWT_NOT_YET_VALID', 'token is not valid yet');
  }
}

/** Why a claim was refused. */
export type ClaimFailureReason = 'missing' | 'invalid' | 'mismatch' | 'too_old';

/** A claim (or the `typ` header) is missing, of the wrong type, does not match, or is too old. */
export class JwtClaimInvalidError extends JwtError {
  /** The claim name (`iss`, `aud`, `exp`, …; `typ` for the header type). */
  readonly claim: string;
  /** What is wrong with it. */
  readonly reason: ClaimFailureReason;

  /** @param claim claim name (a constant or a configured name, never a token value) */
  constructor(claim: string, reason: ClaimFailureReason) {
    super('ERR_JWT_CLAIM_INVALID', `claim "${claim}" is ${reason === 'too_old' ? 'too old' : reason}`);
    this.claim = claim;
    this.reason = reason;
  }
}

/** The header `alg` is unknown, `none`, or not in the verifier's allow-list. */
export class JwsAlgorithmNotAllowedError extends JwtError {
  constructor() {
    super('ERR_JWS_ALG_NOT_ALLOWED', 'algorithm not allowed');
  }
}

/** No key matches the token's `kid` and `alg`. */
export class JwksKeyNotFoundError extends JwtError {
  constructor() {
    super('ERR_JWKS_KEY_NOT_FOUND', 'no key matches the token');
  }
}

/** The header lists a critical extension (RFC 7515 §4.1.11) that hush does not implement, e.g. `b64`. */
export class JwsCritUnsupportedError extends JwtError {
  constructor() {
    super('ERR_JWS_CRIT_UNSUPPORTED', 'unsupported critical header extension');
  }
}

/** A key is unusable: wrong type or curve for its algorithm, too short, too small, or not exportable. */
export class JwtKeyError extends JwtError {
  /** @param message fixed description, never key material */
  constructor(message = 'invalid key') {
    super('ERR_JWT_KEY_INVALID', message);
  }
}

/** A remote JWKS could not be fetched or parsed. */
export class JwksFetchError extends JwtError {
  /** @param message fixed description (status code, timeout, invalid document) */
  constructor(message = 'failed to fetch the JWKS') {
    super('ERR_JWKS_FETCH_FAILED', message);
  }
}

/** An option given to a factory is invalid (thrown at creation time, never while verifying). */
export class JwtOptionsError extends JwtError {
  /** @param message names the option and what is expected */
  constructor(message: string) {
    super('ERR_JWT_OPTIONS_INVALID', message);
  }
}
