import type { KeyObject } from 'node:crypto';
import type { Algorithm } from './types.js';

/** How an algorithm signs: the family decides the key type, the primitive and the signature shape. */
export type AlgorithmFamily = 'hmac' | 'rsa' | 'pss' | 'ecdsa' | 'eddsa';

/** Everything hush needs to know about one `alg`, fixed at module load. */
export interface AlgorithmSpec {
  readonly alg: Algorithm;
  readonly family: AlgorithmFamily;
  /** Digest name for node:crypto; null for EdDSA (the hash is part of the scheme). */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** Digest output length in bytes (also the minimum HMAC secret length and the PSS salt length). */
  readonly hashBytes: number;
  /** EC curve as node names it (`asymmetricKeyDetails.namedCurve`), for ECDSA only. */
  readonly curve?: string;
  /** JWK `crv` for ECDSA and EdDSA. */
  readonly jwkCurve?: string;
  /** Signature length in bytes when fixed by the algorithm (HMAC, ECDSA P1363, Ed25519). */
  readonly signatureBytes?: number;
}

function spec(s: AlgorithmSpec): AlgorithmSpec {
  return Object.freeze(s);
}

/**
 * The algorithm table. Null-prototype so that `alg` values such as `__proto__`, `constructor` or
 * `toString` find nothing; `none` is absent, so it cannot be selected by any header.
 */
export const ALGORITHMS: Readonly<Record<string, AlgorithmSpec | undefined>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, AlgorithmSpec>, {
    HS256: spec({ alg: 'HS256', family: 'hmac', hash: 'sha256', hashBytes: 32, signatureBytes: 32 }),
    HS384: spec({ alg: 'HS384', family: 'hmac', hash: 'sha384', hashBytes: 48, signatureBytes: 48 }),
    HS512: spec({ alg: 'HS512', family: 'hmac', hash: 'sha512', hashBytes: 64, signatureBytes: 64 }),
    RS256: spec({ alg: 'RS256', family: 'rsa', hash: 'sha256', hashBytes: 32 }),
    RS384: spec({ alg: 'RS384', family: 'rsa', hash: 'sha384', hashBytes: 48 }),
    RS512: spec({ alg: 'RS512', family: 'rsa', hash: 'sha512', hashBytes: 64 }),
    PS256: spec({ alg: 'PS256', family: 'pss', hash: 'sha256', hashBytes: 32 }),
    PS384: spec({ alg: 'PS384', family: 'pss', hash: 'sha384', hashBytes: 48 }),
    PS512: spec({ alg: 'PS512', family: 'pss', hash: 'sha512', hashBytes: 64 }),
    ES256: spec({ alg: 'ES256', family: 'ecdsa', hash: 'sha256', hashBytes: 32, curve: 'prime256v1', jwkCurve: 'P-256', signatureBytes: 64 }),
    ES384: spec({ alg: 'ES384', family: 'ecdsa', hash: 'sha384', hashBytes: 48, curve: 'secp384r1', jwkCurve: 'P-384', signatureBytes: 96 }),
    ES512: spec({ alg: 'ES512', family: 'ecdsa', hash: 'sha512', hashBytes: 64, curve: 'secp521r1', jwkCurve: 'P-521', signatureBytes: 132 }),
    EdDSA: spec({ alg: 'EdDSA', family: 'eddsa', hash: null, hashBytes: 64, jwkCurve: 'Ed25519', signatureBytes: 64 }),
  }),
);

/** Every supported algorithm name, in table order. */
export const ALGORITHM_NAMES: readonly Algorithm[] = Object.freeze(Object.keys(ALGORITHMS) as Algorithm[]);

/** Minimum RSA modulus accepted for RS* and PS* (RFC 7518 §3.3 requires 2048). */
export const MIN_RSA_BITS = 2048;

/** Looks `alg` up in the table; undefined for anything that is not a supported algorithm name. */
export function algorithmSpec(alg: unknown): AlgorithmSpec | undefined {
  return typeof alg === 'string' ? ALGORITHMS[alg] : undefined;
}

/**
 * Why `key` cannot serve `alg`, or undefined when it can. The check uses only the KeyObject's declared
 * type and parameters — never its bytes — so a public key can never be taken for an HMAC secret.
 */
export function keyMismatch(spec: AlgorithmSpec, key: KeyObject): string | undefined {
  switch (spec.family) {
    case 'hmac': {
      if (key.type !== 'secret') return `${spec.alg} needs a secret key`;
      const size = key.symmetricKeySize ?? 0;
      if (size < spec.hashBytes) return `${spec.alg} secrets must be at least ${spec.hashBytes} bytes`;
      return undefined;
    }
    case 'rsa':
    case 'pss': {
      if (key.type === 'secret') return `${spec.alg} needs an RSA key`;
      const type = key.asymmetricKeyType;
      const okType = type === 'rsa' || (spec.family === 'pss' && type === 'rsa-pss');
      if (!okType) return `${spec.alg} needs an RSA key`;
      const details = key.asymmetricKeyDetails;
      if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) return `${spec.alg} needs an RSA key of at least ${MIN_RSA_BITS} bits`;
      if (type === 'rsa-pss' && details?.hashAlgorithm !== undefined && details.hashAlgorithm !== spec.hash) {
        return `${spec.alg} needs an RSA-PSS key restricted to ${spec.hash ?? ''}`;
      }
      return undefined;
    }
    case 'ecdsa': {
      if (key.type === 'secret' || key.asymmetricKeyType !== 'ec') return `${spec.alg} needs an EC key`;
      if (key.asymmetricKeyDetails?.namedCurve !== spec.curve) return `${spec.alg} needs a ${spec.jwkCurve ?? ''} key`;
      return undefined;
    }
    case 'eddsa': {
      if (key.type === 'secret' || key.asymmetricKeyType !== 'ed25519') return 'EdDSA needs an Ed25519 key';
      return undefined;
    }
  }
}
