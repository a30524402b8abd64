// The OpenTelemetry Collector ClickHouse exporter's trace tables (otel_traces, its trace-id lookup
// table and view), so a Collector and Grafana's ClickHouse plugin in OTel mode share our data.
import { type DdlContext, localTable, materializedView, table } from './ddl.ts';
import { ttlClause } from './retention.ts';
import { OTEL_TRACES, OTEL_TRACES_TRACE_ID_TS } from './tables.ts';

/** One `otel_traces` row in JSONEachRow form, as the Collector's exporter stores a span. */
export interface OtelTraceRow {
  /** Span start, UTC, 'YYYY-MM-DD HH:MM:SS.nnnnnnnnn'. */
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  /** `Client`, `Server`, `Internal`, `Producer`, `Consumer` (or `Unspecified`). */
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  /** Attribute values as the Collector writes them: arrays as JSON text, numbers as decimal text. */
  SpanAttributes: Record<string, string>;
  /** Nanoseconds; a string keeps full UInt64 precision. */
  Duration: number | string;
  /** `Unset`, `Ok`, `Error`. */
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
}

/**
 * A row already encoded as its JSONEachRow line (ingest's decode workers do it off the event
 * loop), with the fields ingest reads to group and name spans.
 */
export interface EncodedTraceRow extends Pick<OtelTraceRow, 'Timestamp' | 'TraceId' | 'SpanId' | 'SpanName' | 'ServiceName'> {
  /** `isCallSpan` of the row, taken before encoding (insert-dedup.ts looks call spans up). */
  callSpan: boolean;
  /**
   * `JSON.stringify` of the whole OtelTraceRow and a newline, as UTF-8: a view into the buffer
   * of the rows encoded with it (encodeTraceRows), so an insert's body is a copy of bytes, not a
   * concatenation and UTF-8 encoding of strings on the event loop.
   */
  line: Uint8Array;
}

/** What insertSpans takes: rows, or rows already encoded. */
export type SpanRow = OtelTraceRow | EncodedTraceRow;

/**
 * Rows encoded together, column by column: one buffer of their lines (row i ends at `ends[i]`)
 * and the fields of EncodedTraceRow. Plain data with one ArrayBuffer (`bytes` owns it whole), so
 * a worker posts it with `bytes.buffer` transferred: no copy, and a few objects instead of one
 * per row to clone.
 */
export interface EncodedRows {
  bytes: Uint8Array<ArrayBuffer>;
  ends: Uint32Array;
  Timestamp: string[];
  TraceId: string[];
  SpanId: string[];
  SpanName: string[];
  ServiceName: string[];
  /** 1 for a call span. */
  callSpan: Uint8Array;
}

export function encodeTraceRows(rows: readonly OtelTraceRow[]): EncodedRows {
  const lines = rows.map((row) => JSON.stringify(row));
  // Lines are mostly ASCII, a byte a character: sized so first, by their UTF-8 length if one is not.
  const { bytes, ends } = writeLines(lines, (line) => line.length) ?? (writeLines(lines, (line) => Buffer.byteLength(line)) as WrittenLines);
  return {
    bytes,
    ends,
    Timestamp: rows.map((r) => r.Timestamp),
    TraceId: rows.map((r) => r.TraceId),
    SpanId: rows.map((r) => r.SpanId),
    SpanName: rows.map((r) => r.SpanName),
    ServiceName: rows.map((r) => r.ServiceName),
    callSpan: Uint8Array.from(rows, (r) => (isCallSpan(r) ? 1 : 0)),
  };
}

interface WrittenLines {
  bytes: Uint8Array<ArrayBuffer>;
  ends: Uint32Array;
}

/** `lines`, each and a newline, in one buffer of its own; undefined when `size` was short for one. */
function writeLines(lines: readonly string[], size: (line: string) => number): WrittenLines | undefined {
  const ends = new Uint32Array(lines.length);
  let total = 0;
  lines.forEach((line, i) => {
    total += size(line) + 1;
    ends[i] = total;
  });
  const buffer = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    at += buffer.write(lines[i] as string, at);
    if (at !== (ends[i] as number) - 1) return undefined;
    buffer[at++] = 0x0a;
  }
  return { bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, total), ends };
}

/** The rows of `encodeTraceRows`, each line a view into its buffer. */
export function encodedRows(columns: EncodedRows): EncodedTraceRow[] {
  const rows: EncodedTraceRow[] = new Array(columns.ends.length);
  let start = 0;
  for (let i = 0; i < rows.length; i++) {
    const end = columns.ends[i] as number;
    rows[i] = {
      Timestamp: columns.Timestamp[i] as string,
      TraceId: columns.TraceId[i] as string,
      SpanId: columns.SpanId[i] as string,
      SpanName: columns.SpanName[i] as string,
      ServiceName: columns.ServiceName[i] as string,
      callSpan: columns.callSpan[i] === 1,
      line: columns.bytes.subarray(start, end),
    };
    start = end;
  }
  return rows;
}

export function encodeTraceRow(row: OtelTraceRow): EncodedTraceRow {
  return encodedRows(encodeTraceRows([row]))[0] as EncodedTraceRow;
}

/**
 * Set by LLM Prism on another instrumentation's call span around or inside its own (`@ai-sdk/otel`'s
 * CLIENT `chat` span, the Anthropic SDK's `anthropic.messages.create`): the id of LLM Prism's call
 * span, which measures that model request — so it is counted once, by that span.
 */
export const MEASURED_BY = 'llm.measured_by';

/** A span llm_calls_mv turns into a call row (the view's WHERE, on the row as inserted). */
export function isCallSpan(row: SpanRow): boolean {
  if ('line' in row) return row.callSpan;
  return (
    (row.SpanKind === 'Client' || row.SpanKind === 'SPAN_KIND_CLIENT') &&
    (row.SpanAttributes['gen_ai.operation.name'] ?? '') !== '' &&
    (row.SpanAttributes[MEASURED_BY] ?? '') === ''
  );
}

/** DDL of migration 1, in execution order. */
export function otelTracesDdl(ctx: DdlContext): string[] {
  return [
    ...table(ctx, {
      name: OTEL_TRACES,
      columns: `
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1`,
      engine: 'MergeTree',
      body: `PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))${ttlClause(ctx, OTEL_TRACES)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
      // Whole traces on one shard: trace view and llm_calls deduplication stay shard-local.
      shardingKey: 'cityHash64(TraceId)',
    }),
    ...table(ctx, {
      name: OTEL_TRACES_TRACE_ID_TS,
      columns: `
    TraceId String CODEC(ZSTD(1)),
    Start DateTime CODEC(Delta, ZSTD(1)),
    End DateTime CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1`,
      engine: 'MergeTree',
      body: `PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)${ttlClause(ctx, OTEL_TRACES_TRACE_ID_TS)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
      shardingKey: 'cityHash64(TraceId)',
    }),
    materializedView(ctx, {
      name: `${OTEL_TRACES_TRACE_ID_TS}_mv`,
      to: OTEL_TRACES_TRACE_ID_TS,
      select: `SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM ${localTable(ctx, OTEL_TRACES)}
WHERE TraceId != ''
GROUP BY TraceId`,
    }),
  ];
}

/**
 * The latest span time LLM Prism stores: 2100-01-01 00:00:00 UTC, in nanoseconds. `Timestamp` is a
 * DateTime64(9) (to 2262), but the rollups' minutes and hours, the retention TTLs and the duplicate
 * checks compute in DateTime, which ends at 2106-02-07 06:28:15 and wraps past it: a later time
 * would be counted in 1983's minutes, never found again by the duplicate check, or expired at once.
 * The room left after 2100 holds the longest retention a TTL adds (`MAX_RETENTION_DAYS`).
 */
export const LATEST_SPAN_TIME_NS = 4_102_444_800n * 1_000_000_000n;

/** Unix time in nanoseconds → the `Timestamp` text of an OtelTraceRow (UTC, 9 fractional digits). */
export function formatTimestamp(unixNanos: bigint): string {
  const seconds = unixNanos / 1_000_000_000n;
  const nanos = unixNanos % 1_000_000_000n;
  // Spans of one request mostly start in the same second: its text is made once.
  if (seconds !== lastSeconds) {
    const date = new Date(Number(seconds) * 1000).toISOString(); // 'YYYY-MM-DDTHH:MM:SS.000Z'
    lastSeconds = seconds;
    lastSecondText = `${date.slice(0, 10)} ${date.slice(11, 19)}`;
  }
  return `${lastSecondText}.${nanos.toString().padStart(9, '0')}`;
}
let lastSeconds: bigint | undefined;
let lastSecondText = '';

// Ingest joins request bodies with it on the same terms as insertSpans joins rows.
export { joinInSlices } from './slices.ts';
// Ingest refuses call spans whose counts or durations llm_calls cannot hold as sent.
export { CALL_CHECKED_KEYS, callValueProblem } from './call-counts.ts';
