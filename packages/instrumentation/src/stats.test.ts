import { expect, it } from 'vitest';
import { gaps, percentile } from './stats.ts';

it('computes gaps between consecutive arrivals', () => {
  expect(gaps([10, 30, 35, 100])).toEqual([20, 5, 65]);
  expect(gaps([5])).toEqual([]);
});

it('interpolates percentiles like NumPy', () => {
  expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
  expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48, 10);
  expect(percentile([7], 95)).toBe(7);
  expect(percentile([], 50)).toBeUndefined();
});
