// Latency anatomy: where a call's time goes — client setup, queue, prefill, decode by model — and how the stream
// behaves (TTFT distribution, inter-chunk gaps, decode speed, tool-call time).
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { chQuery, chTimeSeries } from '../clickhouse-query.ts';
import { barsPanel, baseDashboard, DASHBOARD_UID, modelVariable, panelIds, seriesPanel, serviceVariable } from './common.ts';
import { latencyHoursSource, latencySeriesSource, percentile } from './hourly-tier.ts';

export function phasesSql(db: string, level: number): string {
  return [
    'SELECT RequestModel AS model,',
    `  ${percentile(level, 'ClientSetupMs')} AS client_setup_ms,`,
    `  ${percentile(level, 'QueueMs')} AS queue_ms,`,
    `  ${percentile(level, 'PrefillMs')} AS prefill_ms,`,
    `  ${percentile(level, 'DecodeMs')} AS decode_ms`,
    `FROM ${latencyHoursSource(db, ['ClientSetupMs', 'QueueMs', 'PrefillMs', 'DecodeMs', 'PhaseCalls'], true)}`,
    'GROUP BY model',
    // Models with streamed calls that were not broken off: the calls the phases are about.
    'HAVING sum(PhaseCalls) > 0',
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

/**
 * Percentiles of one latency figure over time: per model when `alias` names the one percentile
 * shown, else over all selected models as p50, p90, …
 */
export function latencySeriesSql(db: string, [figure, levels]: [string, number[]], alias?: string): string {
  const byModel = alias !== undefined;
  const names = byModel ? [alias] : levels.map((l) => `p${Math.round(l * 100)}`);
  const values = names.map((name, i) => `${percentile(levels[i] as number, figure)} AS ${name}`).join(', ');
  return [
    `SELECT time${byModel ? ', RequestModel' : ''}, ${values}`,
    `FROM ${latencySeriesSource(db, figure, byModel)}`,
    `GROUP BY time${byModel ? ', RequestModel' : ''}`,
    // A bucket without calls the figure is about has an empty histogram: no point.
    `HAVING ${names[0]} IS NOT NULL`,
    'ORDER BY time',
  ].join('\n');
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
        latencySeriesSql(db, ['TtftMs', [0.5, 0.9, 0.99]]),
      ),
    )
    .withPanel(
      msSeries(
        nextId(),
        'Inter-chunk gap p95 by model',
        '95th percentile over calls of each call’s p95 gap between output chunks: stutter that tokens/s hides.',
        latencySeriesSql(db, ['GapP95Ms', [0.95]], 'gap_p95_ms'),
      ),
    )
    .withPanel(
      seriesPanel(nextId(), 'Decode tokens per second by model — median', 'suffix: tokens/s')
        .description('Output tokens ÷ decode seconds, median over calls.')
        .withTarget(chTimeSeries(latencySeriesSql(db, ['DecodeTokensPerSec', [0.5]], 'tokens_per_s')))
        .height(8)
        .span(12),
    )
    .withPanel(
      msSeries(
        nextId(),
        'Tool-call streaming time',
        'Time spent streaming tool-call blocks, calls that made one.',
        latencySeriesSql(db, ['ToolCallMs', [0.5, 0.95]]),
      ),
    )
    .build();
}
