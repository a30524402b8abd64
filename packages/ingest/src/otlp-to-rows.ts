// OTLP spans → `otel_traces` rows, column for column as the Collector's ClickHouse exporter
// writes them, so Grafana's OTel trace view and the derived LLM tables read both alike. A span
// whose values the schema cannot hold, or that are not valid OTLP, is refused whole and named;
// nothing is stored as a made-up value. Text is stored well-formed (lone UTF-16 surrogates,
// which ClickHouse refuses, become U+FFFD).
// The rows module only: the decode workers (decode-worker.ts) must not load chDB.
import { CALL_CHECKED_KEYS, callValueProblem, formatTimestamp, isCallSpan, LATEST_SPAN_TIME_NS, type OtelTraceRow } from '@llm-prism/storage/rows';
import { AttributeTooDeepError, anyValueAsString, attributesToMap } from './attribute-string.ts';
import type { OtlpKeyValue, OtlpLink, OtlpSpan, OtlpTraceRequest, RejectReason, SpanProblem } from './types.ts';

/** SpanKind and StatusCode names by their OTLP number, as the Collector's exporter writes them. */
export const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
export const STATUS_CODES = ['Unset', 'Ok', 'Error'];

export interface Rejection {
  reason: RejectReason;
  /** Names the span (name and span id) and the problem. */
  message: string;
}

export interface ConversionResult {
  rows: OtelTraceRow[];
  rejections: Rejection[];
}

class InvalidSpan extends Error {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A nanosecond time the schema can hold, or the span is refused: 0 means it was never set. */
function timestamp(value: string, field: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidSpan('invalid_timestamp', `${field} ${JSON.stringify(value)} is not a uint64`);
  const ns = BigInt(value);
  if (ns === 0n) throw new InvalidSpan('invalid_timestamp', `${field} is missing (0)`);
  if (ns > LATEST_SPAN_TIME_NS) {
    throw new InvalidSpan('invalid_timestamp', `${field} ${value} is after ${formatTimestamp(LATEST_SPAN_TIME_NS)} UTC, the latest time LLM Prism stores`);
  }
  return ns;
}

function enumName(names: readonly string[], value: number, field: string, type: string): string {
  const name = Number.isInteger(value) ? names[value] : undefined;
  if (name === undefined) throw new InvalidSpan('invalid_value', `${field} ${value} is not a ${type} (0–${names.length - 1})`);
  return name;
}

const ZERO = /^0*$/;

/** A hex id; `optional` ids may be empty (or all zeros, which pdata also writes as ''). */
function checkId(hex: string, bytes: number, optional: boolean, field: string, reason: RejectReason): string {
  if (hex === '' || ZERO.test(hex)) {
    if (optional) return '';
    throw new InvalidSpan(reason, `${field} ${hex === '' ? 'is empty' : 'is all zeros'}`);
  }
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new InvalidSpan(reason, `${field} is not hex (${JSON.stringify(hex.slice(0, 40))})`);
  if (hex.length !== bytes * 2) throw new InvalidSpan(reason, `${field} has ${hex.length / 2} bytes, want ${bytes}`);
  return hex.toLowerCase();
}

function attributes(list: OtlpKeyValue[] | null | undefined, where: string): Record<string, string> {
  try {
    return attributesToMap(list);
  } catch (err) {
    if (err instanceof AttributeTooDeepError) throw new InvalidSpan('attribute_too_deep', `${where} ${err.message}`);
    throw err;
  }
}

type LinkColumns = Pick<OtelTraceRow, 'Links.TraceId' | 'Links.SpanId' | 'Links.TraceState' | 'Links.Attributes'>;

function linkColumns(links: OtlpLink[]): LinkColumns {
  const columns: LinkColumns = { 'Links.TraceId': [], 'Links.SpanId': [], 'Links.TraceState': [], 'Links.Attributes': [] };
  links.forEach((link, i) => {
    columns['Links.TraceId'].push(checkId(link.traceId, 16, true, `link ${i} trace_id`, 'invalid_link_id'));
    columns['Links.SpanId'].push(checkId(link.spanId, 8, true, `link ${i} span_id`, 'invalid_link_id'));
    columns['Links.TraceState'].push(link.traceState.toWellFormed());
    columns['Links.Attributes'].push(attributes(link.attributes, `link ${i}`));
  });
  return columns;
}

interface SpanContext {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  scopeName: string;
  scopeVersion: string;
}

/** One row, or throws InvalidSpan. */
function spanRow(span: OtlpSpan, context: SpanContext): OtelTraceRow {
  if (span.invalid) throw new InvalidSpan(span.invalid.reason, span.invalid.problem);
  const traceId = checkId(span.traceId, 16, false, 'trace_id', 'invalid_trace_id');
  const spanId = checkId(span.spanId, 8, false, 'span_id', 'invalid_span_id');
  const parentSpanId = checkId(span.parentSpanId, 8, true, 'parent_span_id', 'invalid_parent_span_id');
  const start = timestamp(span.startTimeUnixNano, 'start_time_unix_nano');
  const end = timestamp(span.endTimeUnixNano, 'end_time_unix_nano');
  if (end < start) {
    throw new InvalidSpan('invalid_timestamp', `end_time_unix_nano ${end} is before start_time_unix_nano ${start}`);
  }
  const duration = end - start;
  const row: OtelTraceRow = {
    Timestamp: formatTimestamp(start),
    TraceId: traceId,
    SpanId: spanId,
    ParentSpanId: parentSpanId,
    TraceState: span.traceState.toWellFormed(),
    SpanName: span.name.toWellFormed(),
    SpanKind: enumName(SPAN_KINDS, span.kind, 'kind', 'SpanKind'),
    ServiceName: context.serviceName,
    ResourceAttributes: context.resourceAttributes,
    ScopeName: context.scopeName,
    ScopeVersion: context.scopeVersion,
    SpanAttributes: attributes(span.attributes, 'span'),
    Duration: duration <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(duration) : duration.toString(),
    StatusCode: enumName(STATUS_CODES, span.status?.code ?? 0, 'status code', 'StatusCode'),
    StatusMessage: (span.status?.message ?? '').toWellFormed(),
    'Events.Timestamp': span.events.map((e, i) => formatTimestamp(timestamp(e.timeUnixNano, `event ${i} time_unix_nano`))),
    'Events.Name': span.events.map((e) => e.name.toWellFormed()),
    'Events.Attributes': span.events.map((e, i) => attributes(e.attributes, `event ${i}`)),
    ...linkColumns(span.links),
  };
  if (isCallSpan(row)) checkCallValues(row.SpanAttributes);
  return row;
}

/** A call span's counts and durations must be stored as sent, as what they are (storage's call-counts.ts). */
function checkCallValues(attributes: Record<string, string>): void {
  for (const key of CALL_CHECKED_KEYS) {
    const problem = callValueProblem(key, attributes[key]);
    if (problem !== undefined) throw new InvalidSpan('invalid_value', problem);
  }
}

/** How messages name a span: its name and span id (quoted as received when it is not a valid id). */
function spanLabel(span: OtlpSpan): string {
  const name = JSON.stringify(span.name.length > 80 ? `${span.name.slice(0, 80)}…` : span.name);
  const id = /^[0-9a-fA-F]{16}$/.test(span.spanId)
    ? span.spanId.toLowerCase()
    : span.spanId === ''
      ? 'none'
      : JSON.stringify(span.spanId.slice(0, 40));
  return `span ${name.toWellFormed()} (span_id ${id})`;
}

export function otlpToRows(request: OtlpTraceRequest): ConversionResult {
  const rows: OtelTraceRow[] = [];
  const rejections: Rejection[] = [];
  const reject = (span: OtlpSpan, problem: SpanProblem) =>
    rejections.push({ reason: problem.reason, message: `${spanLabel(span)}: ${problem.problem}` });

  for (const rs of request.resourceSpans) {
    let resourceAttributes: Record<string, string>;
    try {
      resourceAttributes = attributes(rs.resource?.attributes, 'resource');
    } catch (err) {
      if (!(err instanceof InvalidSpan)) throw err;
      for (const span of rs.scopeSpans.flatMap((ss) => ss.spans)) reject(span, { reason: err.reason, problem: err.message });
      continue;
    }
    // The exporter takes pdata's first service.name and its AsString(): a number is stored as text.
    const service = rs.resource?.attributes.find((kv) => kv.key === 'service.name');
    const serviceName = service ? anyValueAsString(service.value) : '';
    for (const ss of rs.scopeSpans) {
      const context: SpanContext = {
        serviceName,
        resourceAttributes,
        scopeName: (ss.scope?.name ?? '').toWellFormed(),
        scopeVersion: (ss.scope?.version ?? '').toWellFormed(),
      };
      for (const span of ss.spans) {
        try {
          rows.push(spanRow(span, context));
        } catch (err) {
          if (!(err instanceof InvalidSpan)) throw err;
          reject(span, { reason: err.reason, problem: err.message });
        }
      }
    }
  }
  return { rows, rejections };
}
