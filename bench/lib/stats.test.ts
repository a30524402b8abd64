import { describe, expect, it } from 'vitest';
import { quantile, summarize } from './stats.ts';

describe('summarize', () => {
  it('interpolates quantiles between order statistics, whatever the input order', () => {
    const s = summarize([10, 1, 4, 7, 2, 3, 9, 5, 8, 6]);
    expect(s).toMatchObject({ n: 10, min: 1, max: 10, median: 5.5 });
    expect(s.p25).toBeCloseTo(3.25, 12);
    expect(s.p75).toBeCloseTo(7.75, 12);
    expect(s.p95).toBeCloseTo(9.55, 12);
  });

  it('returns the only sample for every quantile of one, NaN for none', () => {
    expect(summarize([42])).toMatchObject({ min: 42, p25: 42, median: 42, p99: 42, max: 42 });
    expect(quantile([], 0.5)).toBeNaN();
  });
});
