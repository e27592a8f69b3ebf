import { assertJwtKey, exportJwk } from './keys.js';
import { JwtKeyError } from './errors.js';
import type { Algorithm, ExportedJwk, JwtKey } from './types.js';

/**
 * One active signing key plus verification-only older keys, for rotation. Immutable: rotate by building
 * a new KeySet (and a new verifier, which starts with an empty token cache).
 */
export class KeySet {
  /** The key new tokens are signed with: `activeKid`'s key, or the first key. */
  readonly active: JwtKey;
  /** Every key, active first is not implied: the order given. */
  readonly keys: readonly JwtKey[];
  readonly #byKid = new Map<string, JwtKey>();
  readonly #byAlg = new Map<Algorithm, readonly JwtKey[]>();

  /**
   * @param keys at least one key; `kid`s must be unique
   * @param options.activeKid the `kid` of the signing key (default: the first key)
   * @throws JwtKeyError on an empty list, a key that does not fit its alg, a duplicate or unknown kid
   */
  constructor(keys: readonly JwtKey[], options?: { activeKid?: string }) {
    if (!Array.isArray(keys) || keys.length === 0) throw new JwtKeyError('a KeySet needs at least one key');
    for (const key of keys) {
      assertJwtKey(key);
      if (key.kid !== undefined) {
        if (this.#byKid.has(key.kid)) throw new JwtKeyError('duplicate kid in KeySet');
        this.#byKid.set(key.kid, key);
      }
    }
    let active = keys[0]!;
    if (options?.activeKid !== undefined) {
      const found = this.#byKid.get(options.activeKid);
      if (found === undefined) throw new JwtKeyError('activeKid names no key of the set');
      active = found;
    }
    this.active = active;
    this.keys = Object.freeze([...keys]);
    for (const key of keys) {
      const list = this.#byAlg.get(key.alg) ?? [];
      // The active key goes first so that kid-less tokens try it before older keys.
      this.#byAlg.set(key.alg, key === active ? [key, ...list] : [...list, key]);
    }
  }

  /**
   * Exact lookup: with a `kid`, the key with that kid if its alg is `alg`; without one, the sole key of
   * that alg, or the active key when it has that alg. Never a fuzzy or prefix match.
   */
  get(kid: string | undefined, alg: Algorithm): JwtKey | undefined {
    if (kid !== undefined) {
      const key = this.#byKid.get(kid);
      return key !== undefined && key.alg === alg ? key : undefined;
    }
    const list = this.#byAlg.get(alg);
    if (list === undefined) return undefined;
    if (list.length === 1) return list[0];
    return this.active.alg === alg ? this.active : undefined;
  }

  /**
   * The keys a token may have been signed with: the exact `kid` match, or — for a token without `kid` —
   * every key of that alg, active first (so a kid-less secret rotation keeps old tokens valid).
   */
  candidates(kid: string | undefined, alg: Algorithm): readonly JwtKey[] {
    if (kid !== undefined) {
      const key = this.#byKid.get(kid);
      return key !== undefined && key.alg === alg ? [key] : [];
    }
    return this.#byAlg.get(alg) ?? [];
  }

  /** Algorithms at least one key of the set serves. */
  algorithms(): readonly Algorithm[] {
    return [...this.#byAlg.keys()];
  }

  /** A JWKS document of the public keys (HMAC secrets are left out), each with `kid`, `alg`, `use`. */
  toJwks(): { keys: ExportedJwk[] } {
    return { keys: this.keys.filter((k) => k.key.type !== 'secret').map((k) => exportJwk(k)) };
  }
}
