/**
 * hush-auth/jwt — a strict, fast JWS/JWT codec over node:crypto KeyObjects.
 *
 * The server, the middleware and the CLI use nothing else for tokens. See docs/jwt.md.
 */
export type { Algorithm, JwtPayload, JwtKey, ExportedJwk } from './types.js';
export { importSecret, generateKey, importJwk, exportJwk, publicKey, thumbprint } from './keys.js';
export { KeySet } from './key-set.js';
export { createSigner } from './signer.js';
export type { SignerOptions } from './signer.js';
export { createVerifier } from './verifier.js';
export type { VerifierOptions, Verifier } from './verifier.js';
export { decode, signJws, verifyJws } from './jws.js';
export { ALGORITHM_NAMES } from './algorithms.js';
export {
  JwtError,
  JwtMalformedError,
  JwtTooLargeError,
  JwsSignatureInvalidError,
  JwtExpiredError,
  JwtNotYetValidError,
  JwtClaimInvalidError,
  JwsAlgorithmNotAllowedError,
  JwksKeyNotFoundError,
  JwsCritUnsupportedError,
  JwtKeyError,
  JwksFetchError,
  JwtOptionsError,
} from './errors.js';
export type { ClaimFailureReason } from './errors.js';
export { createRemoteJwks, createRemoteVerifier } from './remote.js';
export type { RemoteJwks, RemoteJwksOptions, RemoteVerifierOptions } from './remote.js';
