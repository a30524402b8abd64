// Drill-down: the slowest calls, each TraceId linking to Grafana's trace view of otel_traces
// (the ClickHouse plugin's OTel trace format) on this dashboard.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { chQuery, clickhouseDatasource, Format } from '../clickhouse-query.ts';
import { baseDashboard, CALLS_WHERE, DASHBOARD_UID, modelVariable, panelIds, serviceVariable, tablePanel, traceLink, unitOf } from './common.ts';
import { variableValues } from './filters.ts';
import { slowestBoundConditionSql, slowestCandidatesSql } from './hourly-tier.ts';

/** Rows of the slowest-calls table. */
const SLOWEST = 100;

export const slowCallsSql = (db: string): string =>
  [
  'SELECT Timestamp, TraceId, ServiceName, RequestModel, Route, Outcome, FinishReason,',
  '  round(DurationMs) AS duration_ms, round(TtftMs) AS ttft_ms, round(ClientSetupMs) AS client_setup_ms, round(QueueMs) AS queue_ms, round(DecodeMs) AS decode_ms,',
  '  Retries, CacheState, CacheMissReason',
  `FROM ${db}.llm_calls`,
  // Only calls that can be among the 100 slowest (hourly-tier.ts): most are not read. The bound as
  // PREWHERE: in the granules of the candidate minutes only DurationMs is read for every call
  // (ClickHouse's own PREWHERE choice read more: 30 d, 10 M calls, about a third less CPU).
  `PREWHERE ${slowestBoundConditionSql(db, SLOWEST)}`,
  CALLS_WHERE,
  `  AND ${slowestCandidatesSql(db, SLOWEST)}`,
  'ORDER BY DurationMs DESC',
  `LIMIT ${SLOWEST}`,
].join('\n');

/**
 * The plugin's OTel trace-ID query shape: one row per span, bounded by the trace's time lookup table.
 * A span stored twice (an exporter re-sent a batch whose acknowledgement was lost) is shown once:
 * `LIMIT 1 BY` keeps the first row of each (TraceId, SpanId); the copies are identical.
 */
export const traceSql = (db: string): string =>
  [
  `WITH ${variableValues('trace_id', true)} AS trace_id,`, // typed by the user: whatever its characters
  `  (SELECT min(Start) FROM ${db}.otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_start,`,
  `  (SELECT max(End) + 1 FROM ${db}.otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_end`,
  'SELECT TraceId AS traceID, SpanId AS spanID, ParentSpanId AS parentSpanID, ServiceName AS serviceName,',
  '  SpanName AS operationName, Timestamp AS startTime, multiply(Duration, 0.000001) AS duration,',
  "  arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,",
  "  arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,",
  // Span events (the llm.http.attempt of each HTTP attempt) as the trace view's span logs.
  "  arrayMap((name, ts, attrs) -> CAST(tuple(multiply(toUnixTimestamp64Nano(ts), 0.000001), name, arrayMap(key -> map('key', key, 'value', attrs[key]), mapKeys(attrs))), 'Tuple(timestamp Float64, name String, fields Array(Map(String, String)))'), Events.Name, Events.Timestamp, Events.Attributes) AS logs,",
  "  if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode, StatusMessage AS statusMessage, SpanKind AS kind",
  `FROM ${db}.otel_traces`,
  'WHERE traceID = trace_id AND startTime >= trace_start AND startTime <= trace_end',
  'ORDER BY startTime ASC',
  'LIMIT 1 BY traceID, spanID',
  'LIMIT 1000',
].join('\n');

export function callsDashboard(db: string): dashboard.Dashboard {
  const nextId = panelIds();
  return baseDashboard(DASHBOARD_UID.calls, 'LLM Prism — slow calls and traces', 'The slowest calls; click a TraceId to open its phases as a trace.')
    .withVariable(serviceVariable(db))
    .withVariable(modelVariable(db))
    .withVariable(new dashboard.TextBoxVariableBuilder('trace_id').label('Trace ID').defaultValue(''))
    .withPanel(
      tablePanel(nextId(), 'Slowest calls')
        .withTarget(chQuery(slowCallsSql(db)))
        .unit('none')
        .overrideByName('TraceId', [traceLink()])
        .overrideByRegexp('_ms$', [unitOf('ms')])
        .height(12)
        .span(24),
    )
    .withPanel(
      new dashboard.PanelBuilder()
        .type('traces')
        .id(nextId())
        .datasource(clickhouseDatasource())
        .title('Trace ${trace_id}')
        .fieldConfig({ defaults: {}, overrides: [] })
        .withTarget(chQuery(traceSql(db)).format(Format.Trace))
        .height(14)
        .span(24),
    )
    .build();
}
