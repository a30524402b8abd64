// Independent TS computation of what the dashboards and alert rules must show for the seeded calls:
// SLIs, burn rates, budgets straight from the call list (no SQL, no rollups, no buckets), and a
// small evaluator for Grafana math expressions.
import { BUCKET_FLOOR, BUCKET_GROWTH, BUCKETS_PER_DOUBLING } from '@llm-prism/storage';
import type { ServiceSlo, SloKind } from '@llm-prism/grafana';
import { SERVICE, type SeedCall } from './grafana-seed.ts';

const MINUTE = 60_000;

/** Calls the SLO counts whose start minute lies in [end − seconds, end). */
export function sloEvents(calls: readonly SeedCall[], slo: ServiceSlo, kind: SloKind, endMs: number, seconds: number) {
  const from = endMs - seconds * 1000;
  const threshold = slo[kind].thresholdMs;
  let good = 0;
  let total = 0;
  for (const c of calls) {
    const minute = Math.floor(c.start / MINUTE) * MINUTE;
    if (minute < from || minute >= endMs) continue;
    if (slo.service !== SERVICE || (slo.model !== undefined && c.model !== slo.model) || slo.route !== undefined) continue;
    // An aborted call within the threshold is no event; past it, a bad one (docs/slo.md).
    if (kind === 'ttft') {
      if (!c.streamed) continue;
      if (c.outcome === 'aborted' && c.ttftMs === null) {
        if (c.durationMs > threshold) total++;
        continue;
      }
      total++;
      if (c.ttftMs !== null && c.ttftMs <= threshold) good++;
    } else {
      if (c.outcome === 'aborted') {
        if (c.durationMs > threshold) total++;
        continue;
      }
      total++;
      if (c.outcome === 'success' && c.durationMs <= threshold) good++;
    }
  }
  return { good, total };
}

export function burnRate(calls: readonly SeedCall[], slo: ServiceSlo, kind: SloKind, endMs: number, seconds: number): number {
  const { good, total } = sloEvents(calls, slo, kind, endMs, seconds);
  return total === 0 ? 0 : (total - good) / total / (1 - slo[kind].objective);
}

/**
 * The `level` percentile the latency panels show (docs/clickhouse.md, "Hourly rollups"): the value
 * of nearest rank ⌈level · n⌉, as the point of its logarithmic bucket 2·FLOOR·γ^k / (γ + 1).
 */
export function histogramPercentile(values: readonly number[], level: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.max(1, Math.ceil(level * sorted.length)) - 1] as number;
  if (value <= BUCKET_FLOOR) return 0;
  const bucket = Math.ceil(Math.log2(value / BUCKET_FLOOR) * BUCKETS_PER_DOUBLING);
  return (BUCKET_FLOOR * 2 ** (bucket / BUCKETS_PER_DOUBLING) * 2) / (BUCKET_GROWTH + 1);
}

/** Groups calls by key and aggregates each group. */
export function groupBy<T>(calls: readonly SeedCall[], key: (c: SeedCall) => string, agg: (cs: SeedCall[]) => T): Map<string, T> {
  const groups = new Map<string, SeedCall[]>();
  for (const c of calls) {
    const k = key(c);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [c]);
    else g.push(c);
  }
  return new Map([...groups].map(([k, cs]) => [k, agg(cs)]));
}

/** `YYYY-MM-DD HH:MM:SS` of the interval an epoch-ms time falls into, as ClickHouse prints DateTime in UTC. */
export function intervalStart(ms: number, intervalMs: number): string {
  return new Date(Math.floor(ms / intervalMs) * intervalMs).toISOString().slice(0, 19).replace('T', ' ');
}
