/** A Map bounded to `max` entries that drops the least recently written one (Map keeps insertion order). */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;
  /**
   * Walks the keys oldest first across evictions. `map.keys().next()` on a fresh iterator would
   * rescan the deleted slots at the table's front each time (O(n) per eviction in V8); a live
   * iterator keeps its place, still skips deleted keys and still sees keys re-inserted at the end.
   */
  #oldest: Iterator<K> | undefined;

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`LRU capacity must be at least 1, got ${max}`);
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Whether `key` is held (its value may be undefined, a memoised "none"). */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Reads without refreshing recency: looking a prefix up is not using it. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Inserts or refreshes `key` as the most recent entry. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      this.#oldest ??= this.#map.keys();
      const next = this.#oldest.next();
      if (next.done) this.#oldest = undefined;
      else this.#map.delete(next.value);
    }
  }
}
