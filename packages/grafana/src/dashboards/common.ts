// Shared pieces of the generated dashboards: uids, template variables, filters, panel ids.
import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { clickhouseDatasource } from '../clickhouse-query.ts';
import { CALL_FILTER } from './filters.ts';
import { callHoursSource } from './hourly-tier.ts';

export { CALL_FILTER, SPAN_FILTER } from './filters.ts';

export const DASHBOARD_UID = {
  slo: 'llm-prism-slo',
  latency: 'llm-prism-latency',
  cache: 'llm-prism-cache',
  failures: 'llm-prism-failures',
  calls: 'llm-prism-calls',
  cost: 'llm-prism-cost',
} as const;

export const TAGS = ['llm-prism'];

/** Sequential panel ids, unique within one dashboard. */
export function panelIds(): () => number {
  let id = 0;
  return () => ++id;
}

function multiVariable(db: string, name: string, label: string, column: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(clickhouseDatasource())
    .query(`SELECT DISTINCT ${column} FROM ${callHoursSource(db, [column], false, '1')} ORDER BY ${column}`)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ text: 'All', value: '$__all' });
}

export const serviceVariable = (db: string) => multiVariable(db, 'service', 'Service', 'ServiceName');
export const modelVariable = (db: string) => multiVariable(db, 'model', 'Model', 'RequestModel');

export function baseDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(TAGS)
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .timezone('utc')
    .refresh('1m')
    .link(dashboardsLink());
}

/**
 * The "LLM Prism" dropdown of the dashboards' links, in the top bar. The foundation SDK's default
 * link sets `placement: "inControlsMenu"` (grafana/grafana-foundation-sdk#1272), where Grafana 12
 * releases drop links of type `dashboards` (grafana/grafana#115084): no placement, the top bar.
 */
function dashboardsLink(): { build(): dashboard.DashboardLink } {
  return {
    build() {
      const { placement: _, ...link } = new dashboard.DashboardLinkBuilder('LLM Prism')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(TAGS)
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true)
        .build();
      return link;
    },
  };
}

/** Link from a TraceId cell to the drill-down dashboard's trace view. */
export const traceLink = (): dashboard.DynamicConfigValue => ({
  id: 'links',
  value: [{ title: 'Open trace', url: `/d/${DASHBOARD_UID.calls}?var-trace_id=\${__value.raw}&\${__url_time_range}` }],
});

/** WHERE clause of llm_calls panels: the dashboard's time range plus $service / $model. */
export const CALLS_WHERE = `WHERE $__timeFilter(Timestamp) AND ${CALL_FILTER}`;

/** Time series over llm_calls: `time`, optional label column(s), then the selected values. */
export function callSeriesSql(db: string, select: string, extraWhere = '', groupBy = ''): string {
  const labels = groupBy === '' ? '' : `, ${groupBy}`;
  return [
    `SELECT $__timeInterval(Timestamp) AS time${labels}, ${select}`,
    `FROM ${db}.llm_calls`,
    `${CALLS_WHERE}${extraWhere}`,
    `GROUP BY time${labels}`,
    'ORDER BY time',
  ].join('\n');
}

/** Calls (requests) per second: every count over time is a rate, so zooming does not change it. */
export const PER_SECOND = 'reqps';

/** A count per `$__timeInterval` bucket as a rate per second (the bucket is `$__interval_s` long). */
export const perSecond = (count: string): string => `${count} / $__interval_s`;

const legend = () =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]);

// Every panel names its datasource (panel and queries) rather than relying on the default one,
// every chart shows its legend and every panel its unit.

export function seriesPanel(id: number, title: string, unit: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().id(id).title(title).datasource(clickhouseDatasource()).unit(unit).legend(legend());
}

export function barsPanel(id: number, title: string, unit: string): barchart.PanelBuilder {
  return new barchart.PanelBuilder().id(id).title(title).datasource(clickhouseDatasource()).unit(unit).legend(legend());
}

export function tablePanel(id: number, title: string): table.PanelBuilder {
  return new table.PanelBuilder().id(id).title(title).datasource(clickhouseDatasource());
}

/** Field override giving the named columns of a table a unit. */
export const unitOf = (unit: string): dashboard.DynamicConfigValue => ({ id: 'unit', value: unit });
