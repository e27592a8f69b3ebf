/**
 * A bounded least-recently-used map on top of Map's insertion order: a hit moves the entry to the
 * newest end, an insert beyond `max` evicts the oldest. Keys are whole token strings, so memory is
 * bounded by `max` times the verifier's maximum token length.
 */
export class LruCache<V> {
  readonly max: number;
  readonly #map = new Map<string, V>();

  /** @param max the most entries kept (a positive integer) */
  constructor(max: number) {
    this.max = max;
  }

  /** The value for `key`, marking it most recently used; undefined on a miss. */
  get(key: string): V | undefined {
    const map = this.#map;
    const value = map.get(key);
    if (value !== undefined) {
      map.delete(key);
      map.set(key, value);
    }
    return value;
  }

  /** Inserts or refreshes `key`, evicting the least recently used entry when full. */
  set(key: string, value: V): void {
    const map = this.#map;
    map.delete(key);
    if (map.size >= this.max) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, value);
  }

  /** Removes `key` if present. */
  delete(key: string): void {
    this.#map.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }

  /** Number of entries held. */
  get size(): number {
    return this.#map.size;
  }
}
