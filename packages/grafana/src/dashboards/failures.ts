// Failures: finish reasons, errors after the first token, truncations and refusals, retries and
// 429s, and how much rate-limit headroom each provider leaves.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { chQuery, chTimeSeries } from '../clickhouse-query.ts';
import { baseDashboard, CALLS_WHERE, callSeriesSql, DASHBOARD_UID, modelVariable, panelIds, serviceVariable } from './common.ts';

export const finishReasonsSql = (db: string): string =>
  callSeriesSql(db, 'count() AS calls', '', 'FinishReason');
export const badOutcomesSql = (db: string): string =>
  callSeriesSql(db, 'count() AS calls', " AND Outcome IN ('truncated', 'refused', 'filtered', 'error')", 'Outcome');
export const midStreamSql = (db: string): string =>
  callSeriesSql(
    db,
  "countIf(Outcome = 'error' AND Chunks > 0) AS mid_stream_errors, countIf(Outcome = 'error' AND Chunks = 0) AS failed_before_output",
);
export const retriesSql = (db: string): string =>
  callSeriesSql(db, 'sum(Retries) AS retries, sum(RateLimitedAttempts) AS http_429, countIf(Retries > 0) AS calls_retried');
export const headroomSql = (db: string): string =>
  callSeriesSql(db, 'min(RateLimitHeadroom) AS headroom', ' AND RateLimitHeadroom IS NOT NULL', 'Provider');
export const errorTypesSql = (db: string): string =>
  [
  'SELECT Provider, ErrorType, Outcome, count() AS calls, sum(Retries) AS retries',
  `FROM ${db}.llm_calls FINAL`,
  `${CALLS_WHERE} AND ErrorType != ''`,
  'GROUP BY Provider, ErrorType, Outcome',
  'ORDER BY calls DESC',
].join('\n');

function counts(id: number, title: string, description: string, sql: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().id(id).title(title).description(description).withTarget(chTimeSeries(sql)).height(8).span(12);
}

export function failuresDashboard(db: string): dashboard.Dashboard {
  const nextId = panelIds();
  return baseDashboard(DASHBOARD_UID.failures, 'LLM Prism — failures', 'Bad events HTTP dashboards miss: mid-stream errors, truncation, refusals, retries, rate limits.')
    .withVariable(serviceVariable(db))
    .withVariable(modelVariable(db))
    .withPanel(counts(nextId(), 'Finish reasons', 'First finish reason reported by the provider.', finishReasonsSql(db)))
    .withPanel(counts(nextId(), 'Truncations, refusals, filtered and errored calls', 'Calls whose outcome is a bad event for the completion SLO.', badOutcomesSql(db)))
    .withPanel(counts(nextId(), 'Mid-stream errors', 'Errors after the first output chunk (HTTP said 200) vs. errors before any output.', midStreamSql(db)))
    .withPanel(counts(nextId(), 'Retries and 429s', 'SDK retries, attempts answered 429, and calls that needed a retry.', retriesSql(db)))
    .withPanel(
      new timeseries.PanelBuilder()
        .id(nextId())
        .title('Rate-limit headroom by provider')
        .description('Lowest min(remaining ÷ limit) over requests and tokens seen in the interval.')
        .withTarget(chTimeSeries(headroomSql(db)))
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(
          new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
            { value: null, color: 'red' },
            { value: 0.1, color: 'orange' },
            { value: 0.25, color: 'green' },
          ]),
        )
        .height(8)
        .span(12),
    )
    .withPanel(new table.PanelBuilder().id(nextId()).title('Errors by type').withTarget(chQuery(errorTypesSql(db))).height(8).span(12))
    .build();
}
