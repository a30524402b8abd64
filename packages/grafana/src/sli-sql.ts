// The one place that turns an SLO into SQL over the per-minute rollups. Dashboards, alert rules and
// the terminal report all call these builders, so an SLI means the same thing everywhere.
// Thresholds are applied here, at query time, over latency buckets: changing an SLO never needs
// re-ingestion. Every window ends at `end` (an SQL DateTime expression; `$__toTime` in Grafana)
// and covers the rollup minutes in [end − window, end).
import { LLM_COMPLETION_COUNTS, LLM_TTFT_COUNTS } from '@llm-prism/storage';
import type { ServiceSlo, SloKind } from './config.ts';

export interface BurnWindow {
  label: string;
  seconds: number;
}

export const GRAFANA_END = '$__toTime';

/**
 * Where alert windows end for a query ending at `end`: the start of its minute. They cover complete
 * rollup minutes only, whatever second Grafana evaluates at (an unaligned end would count a partial
 * minute that holds only the calls that already ended — fast failures before slow successes).
 */
export function completeMinutesEnd(end: string = GRAFANA_END): string {
  return `toStartOfMinute(${end})`;
}

export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const ROLLUP: Record<SloKind, string> = { ttft: LLM_TTFT_COUNTS, completion: LLM_COMPLETION_COUNTS };

/** Where and up to when an SLI is computed. */
export interface SliTarget {
  /** Database of the rollups (the tables are always qualified, whatever the client's default database). */
  database: string;
  /** End of every window, an SQL DateTime expression; default `$__toTime`. */
  end?: string;
}

/** Condition on a rollup row that makes its calls good events. */
export function goodCondition(slo: ServiceSlo, kind: SloKind): string {
  return kind === 'ttft'
    ? `Abandoned = 0 AND TtftBucketMs <= ${slo.ttft.thresholdMs}`
    : `Good = 1 AND DurationBucketMs <= ${slo.completion.thresholdMs}`;
}

/**
 * Condition on a rollup row that makes its calls events at all. Every call is, except an aborted
 * one within the threshold: a user who gave up waiting for the first chunk (TTFT) or broke off
 * the stream (completion) is a bad event once the wait exceeded the threshold, and no event before.
 */
export function eventCondition(slo: ServiceSlo, kind: SloKind): string {
  return kind === 'ttft'
    ? `(Abandoned = 0 OR TtftBucketMs > ${slo.ttft.thresholdMs})`
    : `(Aborted = 0 OR DurationBucketMs > ${slo.completion.thresholdMs})`;
}

/** Good and total events of the rows selected, as `good`, `total`. */
function goodTotal(slo: ServiceSlo, kind: SloKind): string {
  return `sumIf(Calls, ${goodCondition(slo, kind)}) AS good, sumIf(Calls, ${eventCondition(slo, kind)}) AS total`;
}

/** Rows of the SLO's service (and model/route, when it names them). */
export function sloFilter(slo: ServiceSlo): string {
  const parts = [`ServiceName = ${sqlString(slo.service)}`];
  if (slo.model !== undefined) parts.push(`Model = ${sqlString(slo.model)}`);
  if (slo.route !== undefined) parts.push(`Route = ${sqlString(slo.route)}`);
  return parts.join(' AND ');
}

function since(end: string, seconds: number): string {
  return `Minute >= ${end} - INTERVAL ${seconds} SECOND`;
}

function errorBudget(slo: ServiceSlo, kind: SloKind): string {
  return `(1 - ${slo[kind].objective})`;
}

function windowFrom(slo: ServiceSlo, kind: SloKind, seconds: number, target: SliTarget): string {
  const end = target.end ?? GRAFANA_END;
  return `FROM ${target.database}.${ROLLUP[kind]}\n  WHERE ${sloFilter(slo)} AND ${since(end, seconds)} AND Minute < ${end}`;
}

/** One row: `good`, `total` calls over the window. */
export function goodTotalSql(slo: ServiceSlo, kind: SloKind, seconds: number, target: SliTarget): string {
  return [
    `SELECT ${goodTotal(slo, kind)}`,
    `  ${windowFrom(slo, kind, seconds, target)}`,
  ].join('\n');
}

/** One row: `sli` = good ÷ total over the window (NULL without calls). */
export function sliSql(slo: ServiceSlo, kind: SloKind, seconds: number, target: SliTarget): string {
  return `SELECT if(total = 0, NULL, good / total) AS sli\nFROM (\n${goodTotalSql(slo, kind, seconds, target)}\n)`;
}

/**
 * 1 − bad ÷ (error budget × total), rounded to 12 decimals as the burn rates are: 1 bad call of 10
 * at 90 % spends the budget exactly, 0 left, where Float64 gives −2.2e-16 (overspent). `+ 0` makes
 * the rounding's −0 a 0 (the report would print "-0 %").
 */
function budgetLeft(slo: ServiceSlo, kind: SloKind, bad: string, total: string): string {
  return `(round(1 - ${bad} / ${total} / ${errorBudget(slo, kind)}, 12) + 0)`;
}

/** One row: `budget_remaining` = 1 − bad ÷ (error budget × total); negative once overspent. */
export function budgetRemainingSql(slo: ServiceSlo, kind: SloKind, seconds: number, target: SliTarget): string {
  return [
    `SELECT if(total = 0, 1, ${budgetLeft(slo, kind, '(total - good)', 'total')}) AS budget_remaining`,
    `FROM (\n${goodTotalSql(slo, kind, seconds, target)}\n)`,
  ].join('\n');
}

export function burnColumn(window: BurnWindow): string {
  return `burn_${window.label}`;
}

/**
 * One row with a column `burn_<label>` per window: (bad ÷ total) ÷ (1 − objective), 0 without
 * calls. One scan over the longest window with conditional merges.
 */
export function burnRatesSql(slo: ServiceSlo, kind: SloKind, windows: readonly BurnWindow[], target: SliTarget): string {
  const longest = Math.max(...windows.map((w) => w.seconds));
  const end = target.end ?? GRAFANA_END;
  const good = goodCondition(slo, kind);
  const event = eventCondition(slo, kind);
  const inner = windows.flatMap((w) => [
    `    sumIf(Calls, ${since(end, w.seconds)} AND ${event}) AS total_${w.label}`,
    `    sumIf(Calls, ${since(end, w.seconds)} AND ${good}) AS good_${w.label}`,
  ]);
  // Rounded to 12 decimals: in Float64 (1 − 0.9) is 0.09999999999999998, so 11 bad calls of 20
  // burned 5.500000000000002 and fired a rule "above 5.5". A burn at a rule's rate is not above
  // it; a real difference from the rate is many orders above 1e-12 at any traffic.
  const outer = windows.map(
    (w) =>
      `  if(total_${w.label} = 0, 0, round((total_${w.label} - good_${w.label}) / total_${w.label} / ${errorBudget(slo, kind)}, 12)) AS ${burnColumn(w)}`,
  );
  return [
    'SELECT',
    outer.join(',\n'),
    'FROM (',
    '  SELECT',
    inner.join(',\n'),
    `  ${windowFrom(slo, kind, longest, target)}`,
    ')',
  ].join('\n');
}

/**
 * Time series `time`, `budget_remaining` across the SLO window: 1 − bad events so far ÷ the bad
 * events the whole window's traffic allows. Its last point equals budgetRemainingSql.
 */
export function burnDownSql(slo: ServiceSlo, kind: SloKind, seconds: number, stepSeconds: number, target: SliTarget): string {
  return [
    'SELECT time,',
    `  ${budgetLeft(slo, kind, 'sum(total - good) OVER (ORDER BY time)', 'greatest(sum(total) OVER (), 1)')} AS budget_remaining`,
    `FROM (\n${stepCountsSql(slo, kind, seconds, stepSeconds, target)}\n)`,
    'ORDER BY time',
  ].join('\n');
}

/** Good and total calls per step of `stepSeconds`: `time`, `good`, `total`. */
function stepCountsSql(slo: ServiceSlo, kind: SloKind, seconds: number, stepSeconds: number, target: SliTarget): string {
  return [
    `  SELECT toStartOfInterval(Minute, INTERVAL ${stepSeconds} SECOND) AS time,`,
    `    ${goodTotal(slo, kind)}`,
    `  ${windowFrom(slo, kind, seconds, target)}`,
    '  GROUP BY time',
  ].join('\n');
}

/**
 * Time series `time`, `good`, `total`, `sli` in steps of `stepSeconds` over [end − seconds, end):
 * the SLI as it moved, for charts (NULL `sli` in steps without calls).
 */
export function sliSeriesSql(slo: ServiceSlo, kind: SloKind, seconds: number, stepSeconds: number, target: SliTarget): string {
  return [
    'SELECT time, good, total, if(total = 0, NULL, good / total) AS sli',
    `FROM (\n${stepCountsSql(slo, kind, seconds, stepSeconds, target)}\n)`,
    'ORDER BY time',
  ].join('\n');
}
