import type { KeyObject } from 'node:crypto';

/** Every JWS algorithm hush implements. `none` does not exist here on purpose. */
export type Algorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA';

/** A verified JWT payload: a frozen JSON object with the registered claims typed. */
export type JwtPayload = Readonly<Record<string, unknown>> & {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
};

/** A key bound to exactly one algorithm. `key` is a secret, private or public KeyObject. */
export interface JwtKey {
  readonly alg: Algorithm;
  readonly kid?: string;
  readonly key: KeyObject;
}

/** A JWK as hush exports it: always with `kid`, `alg` and `use: "sig"`. */
export type ExportedJwk = JsonWebKey & { kid: string; alg: Algorithm; use: 'sig' };
