import { LRUCache } from 'lru-cache';

/** Stands in for an undefined value, which LRUCache would take as a deletion. */
const NONE: unique symbol = Symbol('none');

/**
 * A map bounded to `max` entries that drops the least recently written one: `lru-cache`'s, which
 * keeps its recency list in typed arrays (O(1), nothing held across operations), with two rules of
 * ours: reading does not refresh (looking a prefix up is not using it), and `undefined` is a value.
 */
export class LruMap<K extends {}, V> {
  readonly #cache: LRUCache<K, {}>;

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`LRU capacity must be at least 1, got ${max}`);
    // Bounded by size (each entry 1) rather than `max`: with `max` lru-cache allocates its arrays
    // for every entry up front, 2.8 MB per 100 000 before the first call (5.5 MB of a process's
    // heap and buffers for the tracker's two maps); this way they grow with the entries held.
    this.#cache = new LRUCache<K, {}>({ maxSize: max, sizeCalculation: () => 1 });
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Whether `key` is held (its value may be undefined, a memoised "none"). */
  has(key: K): boolean {
    return this.#cache.has(key);
  }

  /** Reads without refreshing recency. */
  peek(key: K): V | undefined {
    const value = this.#cache.peek(key);
    return value === NONE ? undefined : (value as V);
  }

  /** Inserts or refreshes `key` as the most recent entry. */
  set(key: K, value: V): void {
    this.#cache.set(key, value === undefined ? NONE : (value as {}));
  }
}
