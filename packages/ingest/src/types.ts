// Plain-object shape of a decoded ExportTraceServiceRequest, as protobufjs `toObject` gives it
// (longs as decimal strings, enums as numbers, bytes as base64) but with ids as hex text: read from
// protobuf by otlp-protobuf.ts, from OTLP/JSON by otlp-json.ts.

/** Why a span was not stored, as counted in `llm_prism_ingest_spans_rejected_total{reason}`. */
export type RejectReason =
  | 'invalid_trace_id'
  | 'invalid_span_id'
  | 'invalid_parent_span_id'
  | 'invalid_link_id'
  | 'invalid_timestamp'
  | 'invalid_value'
  | 'attribute_too_deep';

/** A problem that keeps one span out of storage; `problem` does not name the span. */
export interface SpanProblem {
  reason: RejectReason;
  problem: string;
}

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values: OtlpAnyValue[] } | null;
  kvlistValue?: { values: OtlpKeyValue[] } | null;
  /** base64 */
  bytesValue?: string;
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue | null;
}

export interface OtlpEvent {
  timeUnixNano: string;
  name: string;
  attributes: OtlpKeyValue[];
}

export interface OtlpLink {
  /** hex as received (JSON) or hex of the bytes (protobuf) */
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: OtlpKeyValue[];
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  traceState: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  events: OtlpEvent[];
  links: OtlpLink[];
  status: { message: string; code: number } | null;
  /**
   * Set by the JSON decoder when a value of this span (or of its resource or scope) is not a valid
   * OTLP/JSON value: the span is rejected with this problem instead of being stored.
   */
  invalid?: SpanProblem;
}

/** A span with every field at its OTLP default, which the decoders fill from what the request holds. */
export function emptySpan(): OtlpSpan {
  return {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
    events: [],
    links: [],
    status: null,
  };
}

export interface OtlpScopeSpans {
  scope: { name: string; version: string; attributes: OtlpKeyValue[] } | null;
  spans: OtlpSpan[];
}

export interface OtlpResourceSpans {
  resource: { attributes: OtlpKeyValue[] } | null;
  scopeSpans: OtlpScopeSpans[];
}

export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}
