// Failures: finish reasons, errors after the first token, truncations and refusals, retries and
// 429s, and how much rate-limit headroom each provider leaves. Counts are rates per second; the
// failed outcomes are the report's and the completion SLO's (@llm-prism/storage call-metrics.ts).
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { FAILED } from '@llm-prism/storage';
import { chQuery, chTimeSeries } from '../clickhouse-query.ts';
import {
  baseDashboard,
  DASHBOARD_UID,
  modelVariable,
  PER_SECOND,
  panelIds,
  perSecond,
  seriesPanel,
  serviceVariable,
  tablePanel,
} from './common.ts';
import { callHoursSeriesSql, callHoursSource } from './hourly-tier.ts';

const rate = (sum: string) => `${perSecond(`sum(${sum})`)}`;

export const finishReasonsSql = (db: string): string => callHoursSeriesSql(db, { select: `${rate('Calls')} AS calls`, label: 'FinishReason' });
export const badOutcomesSql = (db: string): string => callHoursSeriesSql(db, { select: `${rate('Calls')} AS calls`, label: 'Outcome', where: FAILED });
export const midStreamSql = (db: string): string =>
  callHoursSeriesSql(db, {
    select: `${perSecond("sumIf(CallsWithOutput, Outcome = 'error')")} AS mid_stream_errors, ${perSecond("sumIf(Calls - CallsWithOutput, Outcome = 'error')")} AS failed_before_output`,
    uses: ['Outcome'],
  });
export const retriesSql = (db: string): string =>
  callHoursSeriesSql(db, { select: `${rate('RetryAttempts')} AS retries, ${rate('RateLimitedAttempts')} AS http_429, ${rate('RetriedCalls')} AS calls_retried` });
// Buckets of a provider that reported no headroom have none to show.
export const headroomSql = (db: string): string =>
  callHoursSeriesSql(db, { select: 'min(MinRateLimitHeadroom) AS headroom', label: 'Provider', having: 'headroom IS NOT NULL' });
export const errorTypesSql = (db: string): string =>
  [
    'SELECT Provider, ErrorType, Outcome, sum(Calls) AS calls, sum(RetryAttempts) AS retries',
    `FROM ${callHoursSource(db, ['Provider', 'ErrorType', 'Outcome'], false)}`,
    "WHERE ErrorType != ''",
    'GROUP BY Provider, ErrorType, Outcome',
    'ORDER BY calls DESC',
  ].join('\n');

function rates(id: number, title: string, description: string, sql: string) {
  return seriesPanel(id, title, PER_SECOND).description(description).withTarget(chTimeSeries(sql)).height(8).span(12);
}

export function failuresDashboard(db: string): dashboard.Dashboard {
  const nextId = panelIds();
  return baseDashboard(DASHBOARD_UID.failures, 'LLM Prism — failures', 'Bad events HTTP dashboards miss: mid-stream errors, truncation, refusals, retries, rate limits.')
    .withVariable(serviceVariable(db))
    .withVariable(modelVariable(db))
    .withPanel(rates(nextId(), 'Finish reasons', 'Calls per second by the first finish reason reported by the provider.', finishReasonsSql(db)))
    .withPanel(
      rates(
        nextId(),
        'Truncations, refusals, filtered and errored calls',
        'Calls per second by failed outcome: bad events for the completion SLO whatever their duration.',
        badOutcomesSql(db),
      ),
    )
    .withPanel(rates(nextId(), 'Mid-stream errors', 'Errors per second after the first output chunk (HTTP said 200) vs. errors before any output.', midStreamSql(db)))
    .withPanel(rates(nextId(), 'Retries and 429s', 'Per second: SDK retries, attempts answered 429, and calls that needed a retry.', retriesSql(db)))
    .withPanel(
      seriesPanel(nextId(), 'Rate-limit headroom by provider', 'percentunit')
        .description('Lowest min(remaining ÷ limit) over requests and tokens seen in the interval.')
        .withTarget(chTimeSeries(headroomSql(db)))
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
    .withPanel(
      tablePanel(nextId(), 'Errors by type')
        .description('Calls and their retries in the time range, by provider, error type and outcome.')
        .withTarget(chQuery(errorTypesSql(db)))
        .unit('none')
        .height(8)
        .span(12),
    )
    .build();
}
