import { describe, expect, it } from 'vitest';
import { MinuteCounts } from './minute-counts.ts';

const MINUTE = 60_000;
const BASE = Date.UTC(2027, 0, 1);

describe('MinuteCounts', () => {
  it('counts the complete minutes [end − window, end) of calls visible at the evaluation time', () => {
    const c = new MinuteCounts(BASE, 10);
    c.add(BASE + 5_000, BASE + 6_000, true); // minute 0
    c.add(BASE + MINUTE + 1_000, BASE + MINUTE + 2_000, false); // minute 1
    c.add(BASE + 2 * MINUTE + 1_000, BASE + 9 * MINUTE, false); // minute 2, visible 7 minutes later (a hang)
    c.add(BASE + 3 * MINUTE + 59_000, BASE + 4 * MINUTE + 4_000, true); // minute 3, visible just after it ends
    c.seal();
    expect(c.window(BASE + 4 * MINUTE, 240, BASE + 4 * MINUTE + 30_000)).toEqual({ good: 2, total: 3 });
    expect(c.window(BASE + 4 * MINUTE, 240, BASE + 4 * MINUTE + 1_000)).toEqual({ good: 1, total: 2 });
    expect(c.window(BASE + 4 * MINUTE, 240, BASE + 9 * MINUTE)).toEqual({ good: 2, total: 4 });
    expect(c.window(BASE + 4 * MINUTE, 120, BASE + 9 * MINUTE)).toEqual({ good: 1, total: 2 });
    expect(c.window(BASE + 2 * MINUTE, 60, BASE + 9 * MINUTE)).toEqual({ good: 0, total: 1 });
    // Windows reaching before the first minute count what there is.
    expect(c.window(BASE + MINUTE, 3_600, BASE + MINUTE)).toEqual({ good: 1, total: 1 });
  });

  it('counts a hung call by its deadline report from the report on, by its own span once that arrives', () => {
    const c = new MinuteCounts(BASE, 20);
    c.add(BASE + 1_000, BASE + 2_000, true); // minute 0, healthy
    // Minute 0: reported bad at 1:06, its own span (good, say) at 10:06.
    c.add(BASE + 1_000, BASE + 10 * MINUTE + 6_000, true, { visibleAtMs: BASE + MINUTE + 6_000, good: false });
    c.seal();
    expect(c.window(BASE + MINUTE, 60, BASE + MINUTE + 5_000)).toEqual({ good: 1, total: 1 });
    expect(c.window(BASE + MINUTE, 60, BASE + MINUTE + 6_000)).toEqual({ good: 1, total: 2 });
    expect(c.window(BASE + MINUTE, 60, BASE + 10 * MINUTE + 5_000)).toEqual({ good: 1, total: 2 });
    expect(c.window(BASE + MINUTE, 60, BASE + 10 * MINUTE + 6_000)).toEqual({ good: 2, total: 2 });
  });

  it('refuses calls outside its minutes', () => {
    const c = new MinuteCounts(BASE, 2);
    expect(() => c.add(BASE + 2 * MINUTE, BASE + 2 * MINUTE, true)).toThrow(RangeError);
  });
});
