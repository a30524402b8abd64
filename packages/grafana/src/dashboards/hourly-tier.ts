// Panel queries over llm_calls facts that read whole hours of the range from an hourly rollup
// (@llm-prism/storage call-hours.ts) and only the partial hours at its edges from llm_calls, so a
// 30-day panel reads O(hours × series) rows. Both parts yield the same partial aggregates, which the
// panel's outer query combines: the answer is the one llm_calls alone would give.
import {
  CALL_HOUR_MEASURES,
  type ComputedDimension,
  type HourMeasure,
  hourOf,
  LATENCY_HOUR_COUNTS,
  LATENCY_STATES,
  latencyStateOfCalls,
} from '@llm-prism/storage';
import { CALL_FILTER } from './filters.ts';

/** Where a range starts and ends, for each source. */
export interface TieredRange {
  /** The range over llm_calls rows. */
  calls: string;
  /** The first whole hour in the range and the start of the partial hour it ends in (DateTime). */
  hoursFrom: string;
  hoursTo: string;
}

/** The dashboard range (Grafana macros). */
const DASHBOARD_RANGE: TieredRange = {
  calls: '$__timeFilter(Timestamp)',
  hoursFrom: 'toDateTime(intDiv(toUInt32($__fromTime) + 3599, 3600) * 3600)',
  hoursTo: hourOf('$__toTime'),
};

/** A partial aggregate both sources yield under one name. */
interface Part {
  name: string;
  ofCalls: string;
  ofHours: string;
}

export interface TieredSpec {
  /** The rollup holding whole hours: its dimension columns have llm_calls' names. */
  hours: string;
  /** Dimension columns the panel groups or filters by (columns of both sources). */
  dims: readonly string[];
  parts: readonly Part[];
  /**
   * A time series bucketed by `$__timeInterval`: the rollup can only serve buckets of whole hours,
   * so below a one-hour interval every call is read from llm_calls.
   */
  series: boolean;
  /** Condition on dims, applied to both sources; default: the dashboard's $service / $model. */
  filter?: string;
  /** Dimensions of the rollup computed from llm_calls columns (after dims in each row). */
  computed?: readonly ComputedDimension[];
  /** Default: the dashboard's time range. */
  range?: TieredRange;
}

/** `FROM (…)` of partial aggregates per [time,] dims: the panel aggregates these with sum / min / merge. */
export function tieredSource(db: string, spec: TieredSpec): string {
  const filter = spec.filter ?? CALL_FILTER;
  const range = spec.range ?? DASHBOARD_RANGE;
  const computed = spec.computed ?? [];
  const keys = [...(spec.series ? ['time'] : []), ...spec.dims, ...computed.map((d) => d.name)];
  const groupBy = keys.length === 0 ? '' : `\n  GROUP BY ${keys.join(', ')}`;
  const select = (time: string, of: (p: Part) => string, ofComputed: (d: ComputedDimension) => string) =>
    [...(spec.series ? [`${time} AS time`] : []), ...spec.dims, ...computed.map(ofComputed), ...spec.parts.map((p) => `${of(p)} AS ${p.name}`)].join(', ');
  const fine = spec.series ? '$__interval_s < 3600 OR ' : '';
  const coarse = spec.series ? '$__interval_s >= 3600 AND ' : '';
  return [
    '(',
    `  SELECT ${select('$__timeInterval(Timestamp)', (p) => p.ofCalls, (d) => `${d.ofCalls} AS ${d.name}`)}`,
    `  FROM ${db}.llm_calls`,
    `  WHERE ${range.calls} AND ${filter} AND (${fine}Timestamp < ${range.hoursFrom} OR Timestamp >= ${range.hoursTo})${groupBy}`,
    '  UNION ALL',
    `  SELECT ${select('toStartOfInterval(Hour, INTERVAL $__interval_s second)', (p) => p.ofHours, (d) => d.name)}`,
    `  FROM ${db}.${spec.hours}`,
    `  WHERE ${coarse}Hour >= ${range.hoursFrom} AND Hour < ${range.hoursTo} AND ${filter}${groupBy}`,
    ')',
  ].join('\n');
}

const measurePart = (m: HourMeasure): Part => ({ name: m.name, ofCalls: m.ofCalls, ofHours: `${m.merge}(${m.name})` });

/** Counts and sums of llm_call_hours (Calls, Retries, …) per [time,] dims. */
export const callHoursSource = (db: string, dims: readonly string[], series: boolean, filter?: string): string =>
  tieredSource(db, {
    hours: 'llm_call_hours',
    dims,
    series,
    ...(filter === undefined ? {} : { filter }),
    parts: CALL_HOUR_MEASURES.map(measurePart),
  });

export interface CallHoursSeries {
  select: string;
  /** Label column of the series (one line per value). */
  label?: string;
  /** Condition on dimensions, before grouping. */
  where?: string;
  /** Further dimensions `select` or `where` use. */
  uses?: readonly string[];
  having?: string;
}

/** A time series over llm_call_hours facts: `time`, the optional label, then the selected values. */
export function callHoursSeriesSql(db: string, q: CallHoursSeries): string {
  const labels = q.label === undefined ? '' : `, ${q.label}`;
  const dims = [...(q.label === undefined ? [] : [q.label]), ...(q.uses ?? [])];
  return [
    `SELECT time${labels}, ${q.select}`,
    `FROM ${callHoursSource(db, dims, true)}`,
    ...(q.where === undefined ? [] : [`WHERE ${q.where}`]),
    `GROUP BY time${labels}`,
    ...(q.having === undefined ? [] : [`HAVING ${q.having}`]),
    'ORDER BY time',
  ].join('\n');
}

/** t-digest states of the latency figures (QueueMs, TtftMs, …) per [time,] RequestModel or none. */
export const latencyHoursSource = (db: string, byModel: boolean, series: boolean): string =>
  tieredSource(db, {
    hours: 'llm_latency_hours',
    dims: byModel ? ['RequestModel'] : [],
    series,
    parts: [
      ...LATENCY_STATES.map((s) => ({ name: s.name, ofCalls: latencyStateOfCalls(s), ofHours: `quantileTDigestMergeState(${s.name})` })),
      ...LATENCY_HOUR_COUNTS.map(measurePart),
    ],
  });

/** The `level` percentile of a latency figure over latencyHoursSource rows. */
export const percentile = (level: number, figure: string): string => `quantileTDigestMerge(${level})(${figure})`;
