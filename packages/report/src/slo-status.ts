// Where each SLO stands: SLI and budget over the SLO window, burn rate per alert window, and
// whether the generated page / ticket rules would fire — computed with the same SQL builders the
// Grafana dashboards and alert rules use, so the report and Grafana agree.
import type { ClickHouseClient } from '@clickhouse/client';
import {
  alertPolicy,
  BURN_WINDOWS,
  budgetRemainingSql,
  burnColumn,
  burnRatesSql,
  conditionHolds,
  goodTotalSql,
  policyWindows,
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
  /** Burn rate per dashboard window label (5m … 3d). */
  burn: Record<string, number>;
  /** Whether the page / ticket rule's condition holds now (the objective's alert policy, windows over complete minutes). */
  firing: Record<Severity, boolean>;
  series: { time: string; sli: number | null; total: number }[];
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
  const [burnRow] = await rows<Record<string, number>>(client, burnRatesSql(slo, kind, BURN_WINDOWS, target), {});
  // Firing as the rules decide it: the objective's policy windows, over complete minutes.
  const policy = alertPolicy(slo[kind].objective);
  const windows = policyWindows(policy);
  const [alertRow] = await rows<Record<string, number>>(client, burnRatesSql(slo, kind, windows, { ...target, end: `toStartOfMinute(${target.end})` }), {});
  const series = await rows<{ time: string; sli: number | null; total: number }>(
    client,
    sliSeriesSql(slo, kind, seriesSeconds, stepSeconds, target),
    {},
  );
  const good = Number(counts?.good ?? 0);
  const total = Number(counts?.total ?? 0);
  const burn = Object.fromEntries(BURN_WINDOWS.map((w) => [w.label, Number(burnRow?.[burnColumn(w)] ?? 0)]));
  const alertBurn = Object.fromEntries(windows.map((w) => [w.label, Number(alertRow?.[burnColumn(w)] ?? 0)]));
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
    burn,
    firing: { page: conditionHolds(policy, 'page', alertBurn), ticket: conditionHolds(policy, 'ticket', alertBurn) },
    series: series.map((p) => ({ time: p.time, sli: p.sli === null ? null : Number(p.sli), total: Number(p.total) })),
  };
}
