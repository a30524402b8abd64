// Latency anatomy: where a call's time goes — client setup, queue, prefill, decode by model — and how the stream
// behaves (TTFT distribution, inter-chunk gaps, decode speed, tool-call time).
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { chQuery, chTimeSeries } from '../clickhouse-query.ts';
import { barsPanel, baseDashboard, CALLS_WHERE, callSeriesSql, DASHBOARD_UID, modelVariable, panelIds, seriesPanel, serviceVariable } from './common.ts';

export function phasesSql(db: string, quantile: number): string {
  return [
    'SELECT RequestModel AS model,',
    `  quantile(${quantile})(ClientSetupMs) AS client_setup_ms,`,
    `  quantile(${quantile})(QueueMs) AS queue_ms,`,
    `  quantile(${quantile})(PrefillMs) AS prefill_ms,`,
    `  quantile(${quantile})(DecodeMs) AS decode_ms`,
    `FROM ${db}.llm_calls`,
    `${CALLS_WHERE} AND Streamed = 1 AND Outcome != 'aborted'`,
    'GROUP BY model',
    'ORDER BY model',
  ].join('\n');
}

function phasesPanel(db: string, id: number, quantile: number) {
  return barsPanel(id, `Client setup / queue / prefill / decode by model — p${quantile * 100}`, 'ms')
    .description('Per-phase percentile of streamed calls: client setup = start → request on the wire (SDK start-up, DNS, connect, TLS), queue = request on the wire → response headers, prefill = headers → first chunk, decode = first → last chunk. Calls recorded without llm.client_setup_ms count their set-up in queue.')
    .withTarget(chQuery(phasesSql(db, quantile)))
    .xField('model')
    .stacking(common.StackingMode.Normal)
    .orientation(common.VizOrientation.Horizontal)
    .height(8)
    .span(12);
}

function msSeries(id: number, title: string, description: string, sql: string) {
  return seriesPanel(id, title, 'ms').description(description).withTarget(chTimeSeries(sql)).height(8).span(12);
}

export function latencyDashboard(db: string): dashboard.Dashboard {
  const nextId = panelIds();
  return baseDashboard(DASHBOARD_UID.latency, 'LLM Prism — latency anatomy', 'Where the time of an LLM call goes, by phase and by model.')
    .withVariable(serviceVariable(db))
    .withVariable(modelVariable(db))
    .withPanel(phasesPanel(db, nextId(), 0.5))
    .withPanel(phasesPanel(db, nextId(), 0.95))
    .withPanel(
      msSeries(
        nextId(),
        'Time to first token — distribution',
        'TTFT percentiles of streamed calls.',
        callSeriesSql(db, 'quantile(0.5)(TtftMs) AS p50, quantile(0.9)(TtftMs) AS p90, quantile(0.99)(TtftMs) AS p99', ' AND Streamed = 1'),
      ),
    )
    .withPanel(
      msSeries(
        nextId(),
        'Inter-chunk gap p95 by model',
        '95th percentile over calls of each call’s p95 gap between output chunks: stutter that tokens/s hides.',
        callSeriesSql(db, 'quantile(0.95)(GapP95Ms) AS gap_p95_ms', ' AND Chunks > 1', 'RequestModel'),
      ),
    )
    .withPanel(
      seriesPanel(nextId(), 'Decode tokens per second by model — median', 'suffix: tokens/s')
        .description('Output tokens ÷ decode seconds, median over calls.')
        .withTarget(chTimeSeries(callSeriesSql(db, 'quantile(0.5)(DecodeTokensPerSec) AS tokens_per_s', ' AND DecodeTokensPerSec > 0', 'RequestModel')))
        .height(8)
        .span(12),
    )
    .withPanel(
      msSeries(
        nextId(),
        'Tool-call streaming time',
        'Time spent streaming tool-call blocks, calls that made one.',
        callSeriesSql(db, 'quantile(0.5)(ToolCallMs) AS p50, quantile(0.95)(ToolCallMs) AS p95', ' AND ToolCallMs > 0'),
      ),
    )
    .build();
}
