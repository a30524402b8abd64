// Panel queries over llm_calls facts that read whole hours of the range from an hourly rollup
// (@llm-prism/storage call-hours.ts) and only the partial hours at its edges from llm_calls, so a
// 30-day panel reads O(hours × series) rows; a series with buckets of whole minutes below an hour
// reads whole minutes from a minute rollup where one exists (minute-rollups.ts). The parts yield
// the same partial aggregates, which the panel's outer query combines: the answer is the one
// llm_calls alone would give.
import {
  CALL_HOUR_MEASURES,
  type ComputedDimension,
  type HourMeasure,
  type TieredPart,
  type TieredQuery,
  histogramBucketSql,
  histogramPercentileSql,
  HOUR_GRAIN,
  latencyHourMeasure,
  LLM_LATENCY_HOURS,
  LLM_LATENCY_MINUTES,
  MINUTE_GRAIN,
  startOfGrain,
  type TimeGrain,
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

/** The first whole grain in the dashboard range and the start of the partial one it ends in (Grafana macros). */
const wholeGrains = (grain: TimeGrain) => ({
  from: `toDateTime(intDiv(toUInt32($__fromTime) + ${grain.seconds - 1}, ${grain.seconds}) * ${grain.seconds})`,
  to: startOfGrain(grain, '$__toTime'),
});

/** The dashboard range (Grafana macros). */
const HOURS = wholeGrains(HOUR_GRAIN);
const DASHBOARD_RANGE: TieredRange = { calls: '$__timeFilter(Timestamp)', hoursFrom: HOURS.from, hoursTo: HOURS.to };
const HOURS_FROM = DASHBOARD_RANGE.hoursFrom;
const HOURS_TO = DASHBOARD_RANGE.hoursTo;
/** Whole minutes of the dashboard range: series only, which are dashboard panels ($__interval_s). */
const MINUTES = wholeGrains(MINUTE_GRAIN);

/**
 * Which rollup a series' buckets can be summed from: one of whole hours when each bucket is, else
 * one of whole minutes when each bucket is (`$__interval_s` is at least 1). Any other bucket would
 * split a rollup row, so it is read from llm_calls.
 */
const HOURLY_BUCKETS = '$__interval_s % 3600 = 0';
const MINUTELY_BUCKETS = '$__interval_s % 60 = 0 AND $__interval_s % 3600 != 0';

/** storage's TieredQuery (the cost queries build one) with the filter and the range. */
export interface TieredSpec extends TieredQuery {
  /** Condition on dims, applied to both sources; default: the dashboard's $service / $model. */
  filter?: string;
  /** Default: the dashboard's time range. */
  range?: TieredRange;
}

/** llm_calls rows of the range not read from a rollup: those outside the whole hours (or minutes) a rollup serves. */
function callsWhere(filter: string, range: TieredRange, series: boolean, minutes: boolean): string {
  const outside = (from: string, to: string) => `Timestamp < ${from} OR Timestamp >= ${to}`;
  const hours = series ? `(NOT (${HOURLY_BUCKETS}) OR ${outside(range.hoursFrom, range.hoursTo)})` : `(${outside(range.hoursFrom, range.hoursTo)})`;
  const ofMinutes = series && minutes ? ` AND (NOT (${MINUTELY_BUCKETS}) OR ${outside(MINUTES.from, MINUTES.to)})` : '';
  return `${range.calls} AND ${filter} AND ${hours}${ofMinutes}`;
}

/** `FROM (…)` of partial aggregates per [time,] dims: the panel aggregates these with sum / min / merge. */
export function tieredSource(db: string, spec: TieredSpec, callsPart?: string): string {
  const filter = spec.filter ?? CALL_FILTER;
  const range = spec.range ?? DASHBOARD_RANGE;
  const computed = spec.computed ?? [];
  const minutes = spec.series ? spec.minutes : undefined;
  const keys = [...(spec.series ? ['time'] : []), ...spec.dims, ...computed.map((d) => d.name)];
  const groupBy = keys.length === 0 ? '' : `\n  GROUP BY ${keys.join(', ')}`;
  const select = (time: string, of: (p: TieredPart) => string, ofComputed: (d: ComputedDimension) => string) =>
    [...(spec.series ? [`${time} AS time`] : []), ...spec.dims, ...computed.map(ofComputed), ...spec.parts.map((p) => `${of(p)} AS ${p.name}`)].join(', ');
  // Rollup rows pass through as they are: the panel's aggregate combines them once.
  const rollup = (table: string, grain: TimeGrain, when: string, from: string, to: string) =>
    [
      '  UNION ALL',
      `  SELECT ${select(`toStartOfInterval(${grain.column}, INTERVAL $__interval_s second)`, (p) => p.name, (d) => d.name)}`,
      `  FROM ${db}.${table}`,
      `  WHERE ${when}${grain.column} >= ${from} AND ${grain.column} < ${to} AND ${filter}`,
    ].join('\n');
  return [
    '(',
    callsPart ??
      `  SELECT ${select('$__timeInterval(Timestamp)', (p) => p.ofCalls, (d) => `${d.ofCalls} AS ${d.name}`)}\n  FROM ${db}.${spec.edges ?? 'llm_calls'}\n  WHERE ${callsWhere(filter, range, spec.series, minutes !== undefined)}${groupBy}`,
    rollup(spec.hours, HOUR_GRAIN, spec.series ? `${HOURLY_BUCKETS} AND ` : '', range.hoursFrom, range.hoursTo),
    ...(minutes === undefined ? [] : [rollup(minutes, MINUTE_GRAIN, `${MINUTELY_BUCKETS} AND `, MINUTES.from, MINUTES.to)]),
    ')',
  ].join('\n');
}

/** Counts and sums of llm_call_hours (Calls, Retries, …) per [time,] dims. */
export const callHoursSource = (db: string, dims: readonly string[], series: boolean, filter?: string): string =>
  tieredSource(db, {
    hours: 'llm_call_hours',
    dims,
    series,
    ...(filter === undefined ? {} : { filter }),
    parts: CALL_HOUR_MEASURES,
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

/** Latency histograms (and counts) of llm_latency_hours, the named ones, per RequestModel or none, over the whole range. */
export const latencyHoursSource = (db: string, names: readonly string[], byModel: boolean): string =>
  tieredSource(db, { hours: LLM_LATENCY_HOURS, dims: byModel ? ['RequestModel'] : [], series: false, parts: names.map(latencyHourMeasure) });

/**
 * One latency histogram per `$__timeInterval` bucket [and RequestModel]. From llm_calls the calls
 * are counted per bucket of the histogram first and the counts then made into one map per row:
 * several times cheaper than adding a one-entry map per call.
 */
export function latencySeriesSource(db: string, name: string, byModel: boolean): string {
  const m = latencyHourMeasure(name);
  if (m.histogram === undefined) throw new Error(`${name} is not a latency histogram`);
  const { column, where } = m.histogram;
  const keys = ['time', ...(byModel ? ['RequestModel'] : [])].join(', ');
  const spec: TieredSpec = { hours: LLM_LATENCY_HOURS, minutes: LLM_LATENCY_MINUTES, dims: byModel ? ['RequestModel'] : [], series: true, parts: [m] };
  const calls = [
    `  SELECT ${keys}, CAST((groupArray(Bucket), groupArray(Calls)), 'Map(UInt16, UInt64)') AS ${name}`,
    '  FROM (',
    `    SELECT $__timeInterval(Timestamp) AS time${byModel ? ', RequestModel' : ''}, ${histogramBucketSql(`assumeNotNull(${column})`)} AS Bucket, count() AS Calls`,
    `    FROM ${db}.llm_calls`,
    `    WHERE ${callsWhere(CALL_FILTER, DASHBOARD_RANGE, true, spec.minutes !== undefined)} AND ${column} IS NOT NULL AND ${where}`,
    `    GROUP BY ${keys}, Bucket`,
    '  )',
    `  GROUP BY ${keys}`,
  ].join('\n');
  return tieredSource(db, spec, calls);
}

/**
 * A lower bound of the `n`-th longest call duration in the range, from whole hours: the `n`-th
 * longest of the rollup rows' slowest calls (each row's slowest is a different call; 0 with fewer
 * rows). Calls below it cannot be among the `n` slowest.
 */
const slowestBoundSql = (db: string, n: number): string =>
  `SELECT arrayElement(arrayReverseSort(groupArray(MaxDurationMs)), ${n}) FROM ${db}.llm_latency_hours WHERE Hour >= ${HOURS_FROM} AND Hour < ${HOURS_TO} AND ${CALL_FILTER}`;

/** Condition on llm_calls: at least the bound above, which every one of the `n` slowest calls reaches. */
export const slowestBoundConditionSql = (db: string, n: number): string => `DurationMs >= (${slowestBoundSql(db, n)})`;

/**
 * Condition on llm_calls keeping, with slowestBoundConditionSql, every call that can be among the
 * `n` slowest of the range: in the partial hours at the ends or in a minute of a whole hour whose
 * slowest call reaches the bound — the minutes are llm_calls' key, so the rest is not read.
 */
export function slowestCandidatesSql(db: string, n: number): string {
  return [
    `(Timestamp < ${HOURS_FROM} OR Timestamp >= ${HOURS_TO} OR (ServiceName, toStartOfMinute(Timestamp)) IN (`,
    `    SELECT ServiceName, arrayJoin(arrayMap(m -> Hour + m * 60, range(60))) FROM ${db}.llm_latency_hours`,
    `    WHERE Hour >= ${HOURS_FROM} AND Hour < ${HOURS_TO} AND ${CALL_FILTER} AND MaxDurationMs >= (${slowestBoundSql(db, n)})))`,
  ].join('\n');
}

/** The `level` percentile of a latency figure over latencyHoursSource rows (NULL without calls). */
export const percentile = (level: number, figure: string): string => histogramPercentileSql(level, `sumMap(${figure})`);
