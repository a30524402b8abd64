/** A Map bounded to `max` entries that drops the least recently written one (Map keeps insertion order). */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`LRU capacity must be at least 1, got ${max}`);
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Reads without refreshing recency: looking a prefix up is not using it. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Inserts or refreshes `key` as the most recent entry. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }
}
