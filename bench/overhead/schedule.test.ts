import { describe, expect, it } from 'vitest';
import { roundSchedule, type Pair } from './schedule.ts';

const PAIRS: Pair[] = [
  { variant: 'a', baseline: 'a', aa: true },
  { variant: 'a+x', baseline: 'a', aa: false },
  { variant: 'b+x', baseline: 'b', aa: false },
  { variant: 'b+y', baseline: 'b', aa: false },
  { variant: 'b+z', baseline: 'b', aa: false },
  { variant: 'b+w', baseline: 'b', aa: false },
  { variant: 'b+v', baseline: 'b', aa: false },
];

describe('roundSchedule', () => {
  it('runs every pair once a round, in a rotating order', () => {
    for (let round = 0; round < 10; round++) {
      const s = roundSchedule(round, PAIRS, 2);
      expect(new Set(s.map((b) => b.pair))).toEqual(new Set(PAIRS));
      expect(s[0]?.pair).toBe(PAIRS[round % PAIRS.length]);
    }
  });

  it('gives each pair every combination of order and process once in any four consecutive rounds', () => {
    for (let start = 0; start < 12; start++) {
      for (const pair of PAIRS) {
        const combos = [0, 1, 2, 3].map((r) => {
          const b = roundSchedule(start + r, PAIRS, 2).find((x) => x.pair === pair)!;
          return `${b.variantFirst ? 'first' : 'second'}/${b.variantProcess}/${b.baselineProcess}`;
        });
        expect(new Set(combos).size, `${pair.variant} from round ${start}: ${combos.join(', ')}`).toBe(4);
      }
    }
  });

  it('runs the two sides of an A/A pair on different processes, swapping roles', () => {
    const roles = [0, 2].map((r) => roundSchedule(r, PAIRS, 2).find((b) => b.pair.aa)!);
    for (const b of roles) expect(b.variantProcess).not.toBe(b.baselineProcess);
    expect(roles[0]!.variantProcess).toBe(roles[1]!.baselineProcess);
  });
});
