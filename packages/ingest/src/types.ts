// Plain-object shape of a decoded ExportTraceServiceRequest, as produced by protobufjs `toObject`
// with the options in otlp-codec.ts (longs as decimal strings, enums as numbers, bytes as base64),
// after ids have been turned into hex text. The generated root ships no usable typings.

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
