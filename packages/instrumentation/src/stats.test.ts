import { expect, it } from 'vitest';
import { percentileOfSorted, roundMs, secondsOf, sortedGaps } from './stats.ts';

it('computes the gaps between consecutive arrivals, sorted', () => {
  expect([...sortedGaps([10, 30, 35, 100])]).toEqual([5, 20, 65]);
  expect([...sortedGaps([5])]).toEqual([]);
  expect([...sortedGaps([])]).toEqual([]);
});

it('interpolates percentiles like NumPy', () => {
  expect(percentileOfSorted(Float64Array.of(1, 2, 3, 4), 50)).toBe(2.5);
  expect(percentileOfSorted(Float64Array.of(10, 20, 30, 40, 50), 95)).toBeCloseTo(48, 10);
  expect(percentileOfSorted(Float64Array.of(7), 95)).toBe(7);
  expect(percentileOfSorted(new Float64Array(0), 50)).toBeUndefined();
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
