// A request's rows in groups that each touch few `otel_traces` partitions. The table is partitioned
// by day (`toDate(Timestamp)`, as are `llm_calls` and the trace-id lookup table), and ClickHouse
// refuses an insert block that touches more than `max_partitions_per_insert_block` partitions
// (default 100). Group commit (group-commit.ts) never merges requests beyond that limit and inserts
// one request over more days in groups of days, so that it is stored rather than refused.
import type { OtelTraceRow } from '@llm-prism/storage/rows';

type Dated = Pick<OtelTraceRow, 'Timestamp'>;

/** A request whose spans start on more UTC days than this is refused (400): 100 inserts at most. */
export const MAX_DAYS_PER_REQUEST = 1000;

export interface PartitionGroups<R extends Dated> {
  /** Distinct UTC days the rows start on. */
  days: number;
  /** The rows, in one group when they span at most `daysPerGroup` days, else by day in date order. */
  groups: R[][];
}

/** The day of a row's `Timestamp` ('YYYY-MM-DD HH:MM:SS.nnnnnnnnn', UTC). */
export const dayOf = (row: Dated): string => row.Timestamp.slice(0, 10);

export function partitionGroups<R extends Dated>(rows: R[], daysPerGroup: number): PartitionGroups<R> {
  const byDay = new Map<string, R[]>();
  for (const row of rows) {
    const day = dayOf(row);
    const list = byDay.get(day);
    if (list) list.push(row);
    else byDay.set(day, [row]);
  }
  if (byDay.size <= daysPerGroup) return { days: byDay.size, groups: rows.length > 0 ? [rows] : [] };
  const days = [...byDay.keys()].sort();
  const groups: R[][] = [];
  for (let i = 0; i < days.length; i += daysPerGroup) {
    groups.push(days.slice(i, i + daysPerGroup).flatMap((day) => byDay.get(day)!));
  }
  return { days: days.length, groups };
}
