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

  it.each([1, 2, 3])('gives each pair every combination of order and process once in any 2 × %i consecutive rounds', (processes) => {
    for (let start = 0; start < 12; start++) {
      for (const pair of PAIRS) {
        const combos = Array.from({ length: 2 * processes }, (_, r) => {
          const b = roundSchedule(start + r, PAIRS, processes).find((x) => x.pair === pair)!;
          return `${b.variantFirst ? 'first' : 'second'}/${b.process}`;
        });
        expect(new Set(combos).size, `${pair.variant} from round ${start}: ${combos.join(', ')}`).toBe(2 * processes);
      }
    }
  });

  it.each([1, 2, 3])('runs every process (%i per side) exactly once in any that many consecutive rounds', (processes) => {
    for (let start = 0; start < 12; start++) {
      const blocks = new Map<string, number>();
      for (let r = start; r < start + processes; r++) {
        for (const b of roundSchedule(r, PAIRS, processes)) {
          for (const side of ['variant', 'baseline']) blocks.set(`${b.pair.variant}/${side}/${b.process}`, (blocks.get(`${b.pair.variant}/${side}/${b.process}`) ?? 0) + 1);
        }
      }
      expect(blocks.size).toBe(PAIRS.length * 2 * processes);
      expect(new Set(blocks.values())).toEqual(new Set([1]));
    }
  });
});
