// Multi-window, multi-burn-rate alert rules (SRE Workbook) in Grafana's file-provisioning shape.
// One rule per (SLO, SLI, severity): four burn-rate queries (long and short window of each of the
// severity's two rows, as policy.ts fits them to the objective) and one math expression that ORs
// the rows, each row ANDing its windows.
import { ClickHouseQueryBuilder, DATASOURCE_UID, type ClickHouseQuery } from './clickhouse-query.ts';
import { DEFAULT_RUNBOOK_URL, objectivePercent, sloScopeTitle, type ServiceSlo, type SloConfig, type SloKind } from './config.ts';
import { DASHBOARD_UID } from './dashboards/common.ts';
import { KIND_TITLE } from './dashboards/slo-overview.ts';
import { alertPolicy, FOR_MINUTES, type AlertPolicy, type Severity } from './policy.ts';
import { burnRatesSql, completeMinutesEnd, type BurnWindow } from './sli-sql.ts';

/** Alert windows end at the start of the evaluation's minute (completeMinutesEnd). */
export const ALERT_END = completeMinutesEnd();

/** Section of docs/slo.md's runbook for each SLI (GitHub heading anchors). */
export const RUNBOOK_ANCHOR: Record<SloKind, string> = { ttft: 'runbook-ttft-slo-burning', completion: 'runbook-completion-slo-burning' };
export const ALERT_FOLDER = 'LLM Prism SLOs';
export const CONDITION_REF = 'E';

export interface AlertQuery {
  refId: string;
  relativeTimeRange: { from: number; to: number };
  datasourceUid: string;
  /** The query model as Grafana stores it: plain data, without the SDK's variant marker. */
  model: (Omit<ClickHouseQuery, '_implementsDataqueryVariant'> & { intervalMs: number; maxDataPoints: number }) | MathExpression;
}

export interface MathExpression {
  refId: string;
  type: 'math';
  expression: string;
  datasource: { type: '__expr__'; uid: '__expr__' };
}

export interface AlertRule {
  uid: string;
  title: string;
  condition: string;
  data: AlertQuery[];
  for: string;
  noDataState: 'OK';
  execErrState: 'Error';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AlertRuleFile {
  apiVersion: 1;
  groups: { orgId: number; name: string; folder: string; interval: string; rules: AlertRule[] }[];
}

function burnQuery(database: string, slo: ServiceSlo, kind: SloKind, refId: string, w: BurnWindow): AlertQuery {
  const { _implementsDataqueryVariant, ...model } = new ClickHouseQueryBuilder(burnRatesSql(slo, kind, [w], { database, end: ALERT_END })).refId(refId).build();
  return {
    refId,
    // The query window ends at $__toTime = the evaluation time; the range documents the window.
    relativeTimeRange: { from: w.seconds, to: 0 },
    datasourceUid: DATASOURCE_UID,
    model: { ...model, intervalMs: 60_000, maxDataPoints: 43_200 },
  };
}

const WINDOW_REFS = ['A', 'B', 'C', 'D'] as const;

/** Refs A–D: long and short window of the severity's first row, then of its second. */
export function ruleWindows(policy: AlertPolicy, severity: Severity): [string, BurnWindow][] {
  const [first, second] = policy[severity];
  return [first.long, first.short, second.long, second.short].map((w, i) => [WINDOW_REFS[i] as string, w]);
}

/** E.g. `($A > 14.4 && $B > 14.4) || ($C > 6 && $D > 6)`: refs as in ruleWindows. */
export function conditionExpression(policy: AlertPolicy, severity: Severity): string {
  const [first, second] = policy[severity];
  return `($A > ${first.burnRate} && $B > ${first.burnRate}) || ($C > ${second.burnRate} && $D > ${second.burnRate})`;
}

function ruleFor(config: SloConfig, slo: ServiceSlo, kind: SloKind, severity: Severity, panelId: number): AlertRule {
  const o = slo[kind];
  const policy = alertPolicy(o.objective);
  const [first, second] = policy[severity];
  const windows = ruleWindows(policy, severity);
  const scope = sloScopeTitle(config, slo, ' ');
  const rate = (ref: string, w: BurnWindow) => `{{ humanize $values.${ref}.Value }}× over ${w.label}`;
  const sloName = `${slo.id}-${kind}`;
  const labels: Record<string, string> = {
    severity,
    service: slo.service,
    slo: sloName,
    sli: kind,
    slo_name: slo.id,
    sloth_service: slo.service,
    sloth_slo: kind,
    sloth_severity: severity,
  };
  if (slo.model !== undefined) labels.model = slo.model;
  if (slo.route !== undefined) labels.route = slo.route;
  return {
    // Grafana uids hold at most 40 characters; config ids are at most 28.
    uid: `${slo.id}-${kind === 'ttft' ? 'ttft' : 'done'}-${severity}`,
    title: `${scope} ${KIND_TITLE[kind]} SLO burn rate (${severity})`,
    condition: CONDITION_REF,
    data: [
      ...windows.map(([ref, w]) => burnQuery(config.database, slo, kind, ref, w)),
      {
        refId: CONDITION_REF,
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: { refId: CONDITION_REF, type: 'math', expression: conditionExpression(policy, severity), datasource: { type: '__expr__', uid: '__expr__' } },
      },
    ],
    for: `${FOR_MINUTES[severity]}m`,
    noDataState: 'OK',
    execErrState: 'Error',
    labels,
    annotations: {
      summary: `${scope}: ${KIND_TITLE[kind]} SLO is burning its ${config.window} error budget too fast (${severity})`,
      description:
        `Objective: ${objectivePercent(o.objective)}% ${kind === 'ttft' ? 'of streamed calls with first token' : 'of calls successful'} within ${o.thresholdMs} ms. ` +
        `Burn rate ${rate('A', first.long)} and ${rate('B', first.short)} (alert above ${first.burnRate}); ` +
        `${rate('C', second.long)} and ${rate('D', second.short)} (alert above ${second.burnRate}).`,
      runbook_url: `${config.runbookUrl ?? DEFAULT_RUNBOOK_URL}#${RUNBOOK_ANCHOR[kind]}`,
      __dashboardUid__: DASHBOARD_UID.slo,
      __panelId__: String(panelId),
    },
  };
}

/** One rule group per SLO, evaluated every minute. */
export function alertRuleFile(
  config: SloConfig,
  slo: ServiceSlo,
  burnRatePanel: (sloId: string, kind: SloKind) => number,
): AlertRuleFile {
  const rules = (['ttft', 'completion'] as const).flatMap((kind) =>
    (['page', 'ticket'] as const).map((severity) => ruleFor(config, slo, kind, severity, burnRatePanel(slo.id, kind))),
  );
  return { apiVersion: 1, groups: [{ orgId: 1, name: `slo-${slo.id}`, folder: ALERT_FOLDER, interval: '1m', rules }] };
}
