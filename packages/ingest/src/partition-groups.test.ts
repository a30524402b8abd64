import { otelTraceRow } from '@llm-prism/storage/testing';
import { describe, expect, test } from 'vitest';
import { partitionGroups } from './partition-groups.ts';

const DAYS_PER_INSERT = 10;

const row = (day: number, id: number) =>
  otelTraceRow({ Timestamp: `${new Date(Date.UTC(2025, 0, 1 + day)).toISOString().slice(0, 10)} 12:00:00.000000000`, TraceId: 'a'.repeat(32), SpanId: String(id).padStart(16, '0') });

describe('partitionGroups', () => {
  test(`rows within ${DAYS_PER_INSERT} days stay one group, as they came`, () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(i % DAYS_PER_INSERT, i));
    const { days, groups } = partitionGroups(rows, DAYS_PER_INSERT);
    expect(days).toBe(DAYS_PER_INSERT);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toBe(rows);
  });

  test('rows over more days: groups of whole days in date order, every row once', () => {
    // 25 days, given newest first and interleaved.
    const rows = Array.from({ length: 75 }, (_, i) => row(24 - (i % 25), i));
    const { days, groups } = partitionGroups(rows, DAYS_PER_INSERT);
    expect(days).toBe(25);
    const daysOf = (g: typeof rows) => [...new Set(g.map((r) => r.Timestamp.slice(0, 10)))];
    expect(groups.map((g) => daysOf(g).length)).toEqual([10, 10, 5]);
    expect(groups.flatMap(daysOf)).toEqual(daysOf(rows).toSorted());
    expect(groups.flat().map((r) => r.SpanId).toSorted()).toEqual(rows.map((r) => r.SpanId).toSorted());
  });

  test('no rows, no group', () => {
    expect(partitionGroups([], DAYS_PER_INSERT)).toEqual({ days: 0, groups: [] });
  });
});
