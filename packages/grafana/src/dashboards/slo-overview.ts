// SLO overview: per configured SLO, both SLIs against their objectives, error budget remaining,
// the burn rates of the alert policy's rows (the rules' own windows and thresholds), the budget
// burn-down across the SLO window, firing alerts.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import { chQuery, chTimeSeries, clickhouseDatasource } from '../clickhouse-query.ts';
import { configName, objectivePercent, sloScopeTitle, WINDOW_SECONDS, type ServiceSlo, type SloConfig, type SloKind } from '../config.ts';
import { alertPolicy, policyWindows, type AlertPolicy, type BurnRateCondition, type Severity } from '../policy.ts';
import { budgetRemainingSql, burnColumn, burnDownSql, burnRatesSql, completeMinutesEnd, sliSql, type SliTarget } from '../sli-sql.ts';
import { baseDashboard, DASHBOARD_UID, panelIds, seriesPanel } from './common.ts';

export const KIND_TITLE: Record<SloKind, string> = { ttft: 'TTFT', completion: 'Completion' };

/** Burn-down resolution: hourly points across the 28/30-day window. */
const BURN_DOWN_STEP_S = 3_600;

function thresholds(steps: { value: number | null; color: string }[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

/** The single row of an SLI query: its last (only) value. */
const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']);

function objectiveText(slo: ServiceSlo, kind: SloKind): string {
  const o = slo[kind];
  return kind === 'ttft'
    ? `${objectivePercent(o.objective)}% of streamed calls reach their first output chunk within ${o.thresholdMs} ms`
    : `${objectivePercent(o.objective)}% of calls complete successfully within ${o.thresholdMs} ms`;
}

/** The policy's rows in rule order: page rows, then ticket rows; `column` names the row's value in the burn-rate panel. */
export function policyRows(policy: AlertPolicy): { severity: Severity; row: BurnRateCondition; column: string }[] {
  return (['page', 'ticket'] as const).flatMap((severity) => policy[severity].map((row, i) => ({ severity, row, column: `${severity}_${i + 1}` })));
}

/**
 * One row: per policy row the lower of its long and short windows' burn rates — the row holds (and
 * with it the rule, `$A > r && $B > r`) exactly when that value exceeds the row's rate. The windows
 * end where the rules' do, at the start of the end's minute (completeMinutesEnd): a bar read in the
 * middle of a minute shows what the rule evaluated then.
 */
export function policyRowsSql(slo: ServiceSlo, kind: SloKind, target: SliTarget): string {
  const policy = alertPolicy(slo[kind].objective);
  const rows = policyRows(policy).map(({ row, column }) => `  least(${burnColumn(row.long)}, ${burnColumn(row.short)}) AS ${column}`);
  const windows = burnRatesSql(slo, kind, policyWindows(policy), { ...target, end: completeMinutesEnd(target.end) });
  return ['SELECT', rows.join(',\n'), `FROM (\n${windows}\n)`].join('\n');
}

/**
 * The smallest number above `x`: Grafana colours a value from a threshold step up (≥), the rules
 * fire above their rate (>), so the step sits just above the rate and the colours match exactly.
 */
export function justAbove(x: number): number {
  const value = new Float64Array([x]);
  const bits = new BigInt64Array(value.buffer);
  bits[0] = (bits[0] as bigint) + (x >= 0 ? 1n : -1n);
  return value[0] as number;
}

/** Bar colour once a row holds: red for a page, orange for a ticket. */
const HOLDS_COLOR: Record<Severity, string> = { page: 'red', ticket: 'orange' };

export interface SloOverview {
  dashboard: dashboard.Dashboard;
  /** Burn-rate panel of each (SLO id, kind), for alert annotations. */
  burnRatePanel: (sloId: string, kind: SloKind) => number;
}

export function sloOverviewDashboard(config: SloConfig): SloOverview {
  const nextId = panelIds();
  const windowSeconds = WINDOW_SECONDS[config.window];
  const target = { database: config.database };
  const burnPanels = new Map<string, number>();
  const builder = baseDashboard(
    DASHBOARD_UID.slo,
    'LLM Prism — SLO overview',
    `TTFT and completion SLOs over a ${config.window} window, generated from ${configName(config)}.`,
  ).withPanel(
    new dashboard.PanelBuilder()
      .type('alertlist')
      .id(nextId())
      .title('Firing SLO alerts')
      .fieldConfig({ defaults: {}, overrides: [] })
      .height(6)
      .span(24)
      .options({
        viewMode: 'list',
        groupMode: 'default',
        maxItems: 50,
        sortOrder: 1,
        dashboardAlerts: false,
        alertName: '',
        alertInstanceLabelFilter: '{slo_name=~".+"}',
        stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
      }),
  );

  for (const slo of config.slos) {
    for (const kind of ['ttft', 'completion'] as const) {
      const objective = slo[kind].objective;
      const name = `${KIND_TITLE[kind]} · ${sloScopeTitle(config, slo, ' · ')}`;
      builder.withPanel(
        new stat.PanelBuilder()
          .id(nextId())
          .datasource(clickhouseDatasource())
          .title(`${name} — SLI (${config.window})`)
          .description(objectiveText(slo, kind))
          .withTarget(chQuery(sliSql(slo, kind, windowSeconds, target)))
          .reduceOptions(lastValue())
          .unit('percentunit')
          .decimals(3)
          .thresholds(thresholds([{ value: null, color: 'red' }, { value: objective, color: 'green' }]))
          .height(5)
          .span(6),
      );
      builder.withPanel(
        new stat.PanelBuilder()
          .id(nextId())
          .datasource(clickhouseDatasource())
          .title(`${name} — error budget remaining`)
          .description(`1 − bad events ÷ (${(1 - objective).toFixed(4)} × calls) over the ${config.window} window`)
          .withTarget(chQuery(budgetRemainingSql(slo, kind, windowSeconds, target)))
          .reduceOptions(lastValue())
          .unit('percentunit')
          .decimals(1)
          .thresholds(thresholds([{ value: null, color: 'red' }, { value: 0, color: 'orange' }, { value: 0.25, color: 'green' }]))
          .height(5)
          .span(6),
      );
      const burnId = nextId();
      burnPanels.set(`${slo.id}:${kind}`, burnId);
      const burnPanel = new bargauge.PanelBuilder()
        .id(burnId)
        .datasource(clickhouseDatasource())
        .title(`${name} — burn rate`)
        .description(
          `The alert rules' rows for objective ${objectivePercent(objective)}% (docs/slo.md, Alert policy): each bar is the lower of the row's long and short windows' burn rates ` +
            '(bad-event rate ÷ error budget; 1 spends the budget exactly over the SLO window). Red (page) or orange (ticket) exactly when the row holds: both windows above its rate.',
        )
        .withTarget(chQuery(policyRowsSql(slo, kind, target)))
        .reduceOptions(lastValue())
        .unit('suffix:×')
        .displayMode(common.BarGaugeDisplayMode.Basic)
        .orientation(common.VizOrientation.Horizontal)
        .decimals(2)
        .min(0)
        .thresholds(thresholds([{ value: null, color: 'green' }]))
        .height(5)
        .span(12);
      for (const { severity, row, column } of policyRows(alertPolicy(objective))) {
        burnPanel.overrideByName(column, [
          { id: 'displayName', value: `${severity}: ${row.long.label} & ${row.short.label} > ${row.burnRate}` },
          {
            id: 'thresholds',
            value: {
              mode: dashboard.ThresholdsMode.Absolute,
              steps: [
                { value: null, color: 'green' },
                { value: 1, color: 'yellow' },
                { value: justAbove(row.burnRate), color: HOLDS_COLOR[severity] },
              ],
            },
          },
        ]);
      }
      builder.withPanel(burnPanel);
    }
    builder.withPanel(
      seriesPanel(nextId(), `${sloScopeTitle(config, slo, ' · ')} — error budget burn-down (${config.window})`, 'percentunit')
        .timeFrom(config.window)
        .withTarget(chTimeSeries(burnDownSql(slo, 'ttft', windowSeconds, BURN_DOWN_STEP_S, target)).refId('A'))
        .withTarget(chTimeSeries(burnDownSql(slo, 'completion', windowSeconds, BURN_DOWN_STEP_S, target)).refId('B'))
        .overrideByQuery('A', [{ id: 'displayName', value: 'TTFT budget' }])
        .overrideByQuery('B', [{ id: 'displayName', value: 'Completion budget' }])
        .thresholds(thresholds([{ value: null, color: 'red' }, { value: 0, color: 'transparent' }]))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line))
        .height(7)
        .span(24),
    );
  }
  return {
    dashboard: builder.build(),
    burnRatePanel: (sloId, kind) => {
      const id = burnPanels.get(`${sloId}:${kind}`);
      if (id === undefined) throw new Error(`no burn-rate panel for ${sloId}:${kind}`);
      return id;
    },
  };
}
