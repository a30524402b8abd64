// Where each SLO stands: SLI and budget over the SLO window, and each row of the objective's alert
// policy with its burn rate and whether it holds — computed with the same SQL builders as the
// Grafana dashboards (the SLO overview's burn-rate bars: policyRowsSql) and alert rules, so the
// report and Grafana agree.
import type { ClickHouseClient } from '@clickhouse/client';
import {
  alertPolicy,
  budgetRemainingSql,
  goodTotalSql,
  policyRows,
  policyRowsSql,
  sliSeriesSql,
  WINDOW_SECONDS,
  type ServiceSlo,
  type Severity,
  type SloConfig,
  type SloKind,
} from '@llm-prism/grafana';
import { rows } from './queries.ts';

export interface SloStatus {
  id: string;
  service: string;
  model?: string;
  route?: string;
  kind: SloKind;
  thresholdMs: number;
  objective: number;
  window: SloConfig['window'];
  good: number;
  total: number;
  /** good ÷ total over the SLO window; null without calls. */
  sli: number | null;
  /** 1 − bad ÷ allowed bad; negative once overspent. */
  budgetRemaining: number;
  /** The rows of the objective's alert policy in rule order (page rows, then ticket rows): the SLO overview's burn-rate bars. */
  policy: PolicyRowStatus[];
  /** Whether the page / ticket rule's condition holds now: one of its rows holds. */
  firing: Record<Severity, boolean>;
  series: { time: string; sli: number | null; total: number }[];
}

/** One row of the alert policy at the report's end, over complete minutes as the rules evaluate. */
export interface PolicyRowStatus {
  severity: Severity;
  /** Long and short window labels (`6h`, `30m`, …). */
  long: string;
  short: string;
  /** The row holds when both windows burn faster than this. */
  threshold: number;
  /** The lower of the long and short windows' burn rates: the row holds exactly when it exceeds `threshold`. */
  burnRate: number;
  holds: boolean;
}

const KINDS: readonly SloKind[] = ['ttft', 'completion'];

export async function sloStatuses(
  client: ClickHouseClient,
  config: SloConfig,
  endMs: number,
  seriesSeconds: number,
  stepSeconds: number,
): Promise<SloStatus[]> {
  // The window end is ours (a number), never user input.
  const target = { database: config.database, end: `toDateTime(${Math.floor(endMs / 1000)})` };
  const windowSeconds = WINDOW_SECONDS[config.window];
  const out: SloStatus[] = [];
  for (const slo of config.slos) {
    for (const kind of KINDS) out.push(await status(client, slo, kind, config, windowSeconds, seriesSeconds, stepSeconds, target));
  }
  return out;
}

async function status(
  client: ClickHouseClient,
  slo: ServiceSlo,
  kind: SloKind,
  config: SloConfig,
  windowSeconds: number,
  seriesSeconds: number,
  stepSeconds: number,
  target: { database: string; end: string },
): Promise<SloStatus> {
  const [counts] = await rows<{ good: number; total: number }>(client, goodTotalSql(slo, kind, windowSeconds, target), {});
  const [budget] = await rows<{ budget_remaining: number }>(client, budgetRemainingSql(slo, kind, windowSeconds, target), {});
  // The dashboard's burn-rate bars, with windows over complete minutes as the rules evaluate them.
  const [rowValues] = await rows<Record<string, number>>(client, policyRowsSql(slo, kind, target), {});
  const series = await rows<{ time: string; sli: number | null; total: number }>(
    client,
    sliSeriesSql(slo, kind, seriesSeconds, stepSeconds, target),
    {},
  );
  const good = Number(counts?.good ?? 0);
  const total = Number(counts?.total ?? 0);
  const policy = policyRows(alertPolicy(slo[kind].objective)).map(({ severity, row, column }): PolicyRowStatus => {
    const burnRate = Number(rowValues?.[column] ?? 0);
    return { severity, long: row.long.label, short: row.short.label, threshold: row.burnRate, burnRate, holds: burnRate > row.burnRate };
  });
  const holds = (severity: Severity) => policy.some((r) => r.severity === severity && r.holds);
  return {
    id: slo.id,
    service: slo.service,
    ...(slo.model !== undefined ? { model: slo.model } : {}),
    ...(slo.route !== undefined ? { route: slo.route } : {}),
    kind,
    thresholdMs: slo[kind].thresholdMs,
    objective: slo[kind].objective,
    window: config.window,
    good,
    total,
    sli: total === 0 ? null : good / total,
    budgetRemaining: Number(budget?.budget_remaining ?? 1),
    policy,
    firing: { page: holds('page'), ticket: holds('ticket') },
    series: series.map((p) => ({ time: p.time, sli: p.sli === null ? null : Number(p.sli), total: Number(p.total) })),
  };
}
