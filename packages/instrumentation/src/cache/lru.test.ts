import { describe, expect, it } from 'vitest';
import { LruMap } from './lru.ts';

describe('LruMap', () => {
  it('drops the least recently written key, counting a re-write as recent', () => {
    const lru = new LruMap<string, number>(3);
    for (const k of ['a', 'b', 'c']) lru.set(k, 1);
    lru.set('a', 2); // order now b, c, a
    lru.set('d', 1); // drops b
    expect(['a', 'b', 'c', 'd'].map((k) => lru.peek(k))).toEqual([2, undefined, 1, 1]);
    lru.set('e', 1); // drops c
    lru.set('c', 3); // drops a
    expect(['a', 'c', 'd', 'e'].map((k) => lru.peek(k))).toEqual([undefined, 3, 1, 1]);
    expect(lru.size).toBe(3);
  });

  it('keeps exact LRU order over many evictions with refreshes in between', () => {
    const max = 50;
    const lru = new LruMap<number, number>(max);
    const order: number[] = []; // reference model: oldest first
    const set = (k: number) => {
      lru.set(k, k);
      order.splice(order.indexOf(k) >>> 0, order.includes(k) ? 1 : 0);
      order.push(k);
      if (order.length > max) order.shift();
    };
    for (let i = 0; i < 2_000; i++) {
      set(i);
      if (i % 7 === 0) set(order[(i * 13) % order.length]!);
    }
    expect(lru.size).toBe(max);
    for (const k of order) expect(lru.peek(k)).toBe(k);
  });

  it('holds a key whose value is undefined (a memoised none) until it is evicted', () => {
    const lru = new LruMap<string, string | undefined>(2);
    lru.set('none', undefined);
    expect(lru.has('none')).toBe(true);
    expect(lru.has('other')).toBe(false);
    lru.set('a', 'A');
    lru.set('b', 'B');
    expect(lru.has('none')).toBe(false);
    expect(lru.has('a')).toBe(true);
  });

  it('refuses a capacity below one', () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});

describe('LruMap memory', () => {
  it('allocates with the entries held, not for its capacity up front (a new tracker cost 5.5 MB before the first call)', () => {
    const heapAndBuffers = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const maps: LruMap<string, number>[] = [];
    const before = heapAndBuffers();
    for (let i = 0; i < 10; i++) maps.push(new LruMap<string, number>(100_000));
    // With lru-cache's `max`, each one took 2.8 MB: 28 MB for ten.
    expect((heapAndBuffers() - before) / 1e6).toBeLessThan(2);
    maps[0]!.set('a', 1);
    expect(maps[0]!.peek('a')).toBe(1);
  });
});
