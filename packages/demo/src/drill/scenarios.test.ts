import { describe, expect, it } from 'vitest';
import { KindPicker, SCENARIOS } from './scenarios.ts';

describe('KindPicker', () => {
  it('holds the shares of bad calls exactly over time', () => {
    const picker = new KindPicker();
    const kinds = Array.from({ length: 1_000 }, () => picker.next({ ttftBad: 0.1, completionBad: 0.001 }));
    const count = (k: string) => kinds.filter((x) => x === k).length;
    // 100 TTFT-bad calls, 1 of them also completion-bad (a failure).
    expect(count('slow_ttft') + count('failure')).toBe(100);
    expect(count('midstream_error') + count('failure')).toBe(1);
    expect(count('healthy')).toBe(1_000 - count('slow_ttft') - count('midstream_error') - count('failure'));
  });

  it('caps 10× the budget rate at every call bad', () => {
    const burn10 = SCENARIOS.find((s) => s.name === 'slow_burn_10x');
    const mix = burn10?.minute(0, { thresholdMs: 1000, objective: 0.9 }, { thresholdMs: 1000, objective: 0.95 }) as { ttftBad: number; completionBad: number };
    expect(mix.ttftBad).toBeCloseTo(1, 12);
    expect(mix.completionBad).toBeCloseTo(0.5, 12);
    const picker = new KindPicker();
    // 10 × (1 − 0.9) falls short of 1 in floating point: still every call.
    expect(Array.from({ length: 4 }, () => picker.next(mix))).toEqual(['slow_ttft', 'failure', 'slow_ttft', 'failure']);
  });
});
