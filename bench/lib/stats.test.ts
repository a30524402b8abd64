import { describe, expect, it } from 'vitest';
import { controlReading, medianCI, quantile, separated, summarize } from './stats.ts';

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

describe('medianCI', () => {
  it('brackets the median, narrows with more rounds and is reproducible', () => {
    const noisy = (n: number) => Array.from({ length: n }, (_, i) => 100 + ((i * 37) % 11) - 5);
    const few = medianCI(noisy(8));
    const many = medianCI(noisy(200));
    expect(few.low).toBeLessThanOrEqual(few.value);
    expect(few.high).toBeGreaterThanOrEqual(few.value);
    expect(many.high - many.low).toBeLessThan(few.high - few.low);
    expect(medianCI(noisy(8))).toEqual(few);
  });

  it('tells separated intervals from overlapping ones', () => {
    const a = medianCI([1, 1.01, 0.99, 1, 1.02, 0.98, 1, 1]);
    const b = medianCI([2, 2.01, 1.99, 2, 2.02, 1.98, 2, 2]);
    expect(separated(a, b)).toBe(true);
    expect(separated(a, medianCI([1, 1.01, 0.99, 1.005]))).toBe(false);
    expect(medianCI([]).value).toBeNaN();
  });

  it('with clusters, resamples them too: processes that keep an offset widen the interval', () => {
    // Four processes, each with an offset of its own, 30 rounds each around it.
    const offsets = [0.9, 1.0, 1.1, 1.2];
    const samples = offsets.flatMap((o) => Array.from({ length: 30 }, (_, i) => o + (((i * 7) % 5) - 2) * 0.005));
    const clusterOf = offsets.flatMap((_, c) => Array.from({ length: 30 }, () => c));
    const rounds = medianCI(samples);
    const clustered = medianCI(samples, 0.95, 2000, 1, clusterOf);
    expect(clustered.value).toBe(rounds.value);
    expect(clustered.high - clustered.low).toBeGreaterThan(2 * (rounds.high - rounds.low));
    expect(clustered.low).toBeLessThan(1.0);
    expect(clustered.high).toBeGreaterThan(1.1);
    // Without offsets between them, clusters change little.
    const flat = samples.map((x, i) => x - (offsets[clusterOf[i] as number] as number) + 1);
    const flatClustered = medianCI(flat, 0.95, 2000, 1, clusterOf);
    const flatRounds = medianCI(flat);
    expect(flatClustered.high - flatClustered.low).toBeLessThanOrEqual(1.5 * (flatRounds.high - flatRounds.low) + 1e-9);
  });
});

describe('controlReading', () => {
  const ci = (low: number, high: number) => ({ value: (low + high) / 2, low, high, level: 0.95 });
  it('says whether the interval holds the injected cost, and whether it tells it from none', () => {
    expect(controlReading(ci(1.01, 1.06), 1.034)).toBe('found');
    expect(controlReading(ci(0.93, 1.062), 1.034)).toBe('unresolved');
    expect(controlReading(ci(1.0, 1.062), 1.034)).toBe('unresolved'); // 1 on the bound is held
    expect(controlReading(ci(1.04, 1.1), 1.034)).toBe('outside');
    expect(controlReading(ci(0.9, 1.02), 1.034)).toBe('outside');
    expect(controlReading(ci(1.034, 1.1), 1.034)).toBe('found'); // the expected ratio on the bound is held
  });
});
