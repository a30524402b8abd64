import { expect, it } from 'vitest';
import { compareRows } from './compare.ts';

it('treats rows as a multiset, numbers within 1e-6 as equal and within 5 % as approximate', () => {
  const a = [{ t: '10:00', r: 'cold', n: 1 }, { t: '10:00', r: 'evicted', n: 2 }];
  expect(compareRows(a, [a[1]!, a[0]!])).toBe('same');
  expect(compareRows(a, [{ ...a[0]!, n: 1 + 1e-9 }, a[1]!])).toBe('same');
  expect(compareRows(a, [{ ...a[0]!, n: 1.03 }, a[1]!])).toBe('approx');
  expect(compareRows(a, [{ ...a[0]!, n: 1.5 }, a[1]!])).toBe('differs');
  expect(compareRows(a, [{ ...a[0]!, r: 'expired' }, a[1]!])).toBe('differs');
  expect(compareRows(a, [a[0]!])).toBe('differs');
});
