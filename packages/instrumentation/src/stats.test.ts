import { expect, it } from 'vitest';
import { gapStats, roundMs, secondsOf } from './stats.ts';

/** R-7 over a sorted copy: the definition gapStats must agree with. */
function percentileBySorting(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

it('the gaps between consecutive arrivals, with their percentiles interpolated like NumPy and their largest', () => {
  const stats = gapStats([10, 30, 35, 100])!;
  expect([...stats.gaps].sort((a, b) => a - b)).toEqual([5, 20, 65]);
  expect(stats).toMatchObject({ p50: 20, max: 65 });
  expect(stats.p95).toBeCloseTo(20 + 45 * 0.9, 10);
  expect(gapStats([0, 1, 3, 6, 10])).toMatchObject({ p50: 2.5, max: 4 });
  expect(gapStats([0, 7])).toMatchObject({ p50: 7, p95: 7, max: 7 });
  expect(gapStats([5])).toBeUndefined();
  expect(gapStats([])).toBeUndefined();
});

it('gap percentiles found by selection equal those of the sorted gaps, exactly (ties, runs, any length)', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 2; n < 400; n += 3) {
    for (const spread of [0, 1, 3, 1000]) {
      const times = [0];
      // spread 0: every gap equal; 3: many ties; 1000: all distinct.
      for (let i = 1; i < n; i++) times.push(times[i - 1]! + 10 + (spread === 0 ? 0 : Math.floor(random() * spread) * (spread === 1000 ? 0.013 : 1)));
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      const stats = gapStats(times)!;
      expect(stats.p50).toBe(percentileBySorting(gaps, 50));
      expect(stats.p95).toBe(percentileBySorting(gaps, 95));
      expect(stats.max).toBe(Math.max(...gaps));
      expect([...stats.gaps].sort((a, b) => a - b)).toEqual([...gaps].sort((a, b) => a - b));
    }
  }
});

it('rounds durations to the microsecond, in ms and in s, without float noise', () => {
  expect(roundMs(300.0999999)).toBe(300.1);
  expect(roundMs(1001.40049)).toBe(1001.4);
  expect(roundMs(12.0004)).toBe(12);
  expect(roundMs(0.0005)).toBe(0.001);
  // Dividing by 1000 leaves noise; secondsOf does not.
  expect(300.1 / 1000).toBe(0.30010000000000003);
  expect(secondsOf(300.1)).toBe(0.3001);
  expect(String(secondsOf(0.009))).toBe('0.000009');
  expect(String(secondsOf(0.03))).toBe('0.00003');
  expect(secondsOf(1001.4)).toBe(1.0014);
  expect(secondsOf(300)).toBe(0.3);
  // Every whole number of microseconds reads back as its decimal, in ms and in s.
  for (let us = 0; us < 200_000; us += 7) {
    expect(String(roundMs(us / 1000 + 1e-7))).toBe(String(us / 1000));
    expect(String(secondsOf(roundMs(us / 1000)))).toBe(String(us / 1_000_000));
  }
});
