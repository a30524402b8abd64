// Whether two plans gave the same answer. Rows are compared as multisets: a query ordered by a
// column with ties (ORDER BY time) may list the tied rows in any order.
export type Row = Record<string, unknown>;
export type Agreement = 'same' | 'approx' | 'differs';

const key = (row: Row) => JSON.stringify(row, (_, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v));

function sortRows(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Same rows with numbers within 1e-6 relative: `same`; within 5 % (sampling quantiles): `approx`. */
export function compareRows(a: readonly Row[], b: readonly Row[]): Agreement {
  if (a.length !== b.length) return 'differs';
  const sa = sortRows(a);
  const sb = sortRows(b);
  let worst = 0;
  for (let i = 0; i < sa.length; i++) {
    const ra = sa[i] as Row;
    const rb = sb[i] as Row;
    if (Object.keys(ra).join() !== Object.keys(rb).join()) return 'differs';
    for (const k of Object.keys(ra)) {
      const x = ra[k];
      const y = rb[k];
      if (typeof x === 'number' && typeof y === 'number') {
        worst = Math.max(worst, x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y)));
      } else if (JSON.stringify(x) !== JSON.stringify(y)) return 'differs';
    }
  }
  return worst <= 1e-6 ? 'same' : worst <= 0.05 ? 'approx' : 'differs';
}
