// SLO overview: per configured SLO, both SLIs against their objectives, error budget remaining,
// burn rates over the alert windows, the budget burn-down across the SLO window, firing alerts.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import { chQuery, chTimeSeries, clickhouseDatasource } from '../clickhouse-query.ts';
import { WINDOW_SECONDS, type ServiceSlo, type SloConfig, type SloKind } from '../config.ts';
import { BURN_WINDOWS, budgetRemainingSql, burnDownSql, burnRatesSql, sliSql } from '../sli-sql.ts';
import { baseDashboard, DASHBOARD_UID, panelIds, seriesPanel } from './common.ts';

export const KIND_TITLE: Record<SloKind, string> = { ttft: 'TTFT', completion: 'Completion' };

/** Burn-down resolution: hourly points across the 28/30-day window. */
const BURN_DOWN_STEP_S = 3_600;

function thresholds(steps: { value: number | null; color: string }[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

/** The single row of an SLI query: its last (only) value. */
const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']);

function describe(slo: ServiceSlo): string {
  return [slo.service, slo.model, slo.route].filter((p) => p !== undefined).join(' · ');
}

function objectiveText(slo: ServiceSlo, kind: SloKind): string {
  const o = slo[kind];
  return kind === 'ttft'
    ? `${o.objective * 100}% of streamed calls reach their first output chunk within ${o.thresholdMs} ms`
    : `${o.objective * 100}% of calls complete successfully within ${o.thresholdMs} ms`;
}

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
    `TTFT and completion SLOs over a ${config.window} window, generated from llm-prism.slo.yaml.`,
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
      const name = `${KIND_TITLE[kind]} · ${describe(slo)}`;
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
      builder.withPanel(
        new bargauge.PanelBuilder()
          .id(burnId)
          .datasource(clickhouseDatasource())
          .title(`${name} — burn rate`)
          .description('Bad-event rate ÷ error budget over each alert window; 1 spends the budget exactly over the SLO window.')
          .withTarget(chQuery(burnRatesSql(slo, kind, BURN_WINDOWS, target)))
          .reduceOptions(lastValue())
          .unit('suffix:×')
          .displayMode(common.BarGaugeDisplayMode.Basic)
          .orientation(common.VizOrientation.Horizontal)
          .decimals(2)
          .min(0)
          .thresholds(
            thresholds([
              { value: null, color: 'green' },
              { value: 1, color: 'yellow' },
              { value: 6, color: 'orange' },
              { value: 14.4, color: 'red' },
            ]),
          )
          .height(5)
          .span(12),
      );
    }
    builder.withPanel(
      seriesPanel(nextId(), `${describe(slo)} — error budget burn-down (${config.window})`, 'percentunit')
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
