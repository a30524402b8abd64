// OTLP spans → `otel_traces` rows, column for column as the Collector's ClickHouse exporter
// writes them, so Grafana's OTel trace view and the derived LLM tables read both alike.
import { formatTimestamp, type OtelTraceRow } from '@llm-prism/storage';
import { AttributeTooDeepError, attributesToMap } from './attribute-string.ts';
import type { OtlpLink, OtlpSpan, OtlpTraceRequest } from './types.ts';

const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];

export type RejectReason = 'invalid_trace_id' | 'invalid_span_id' | 'invalid_parent_span_id' | 'invalid_link_id' | 'attribute_too_deep';

export interface Rejection {
  reason: RejectReason;
  message: string;
}

export interface ConversionResult {
  rows: OtelTraceRow[];
  rejections: Rejection[];
}

function durationNs(start: string, end: string): number | string {
  const ns = BigInt(end) - BigInt(start);
  // An end before the start would wrap around in UInt64; the span simply took no time.
  if (ns <= 0n) return 0;
  return ns <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ns) : ns.toString();
}

const ZERO = /^0*$/;

/** Checks a hex id; `optional` ids may be empty (or all zeros, which pdata also writes as ''). */
function checkId(hex: string, bytes: number, optional: boolean): { ok: true; hex: string } | { ok: false; why: string } {
  if (hex === '' || ZERO.test(hex)) {
    return optional ? { ok: true, hex: '' } : { ok: false, why: hex === '' ? 'is empty' : 'is all zeros' };
  }
  if (!/^[0-9a-fA-F]*$/.test(hex)) return { ok: false, why: `is not hex (${JSON.stringify(hex.slice(0, 40))})` };
  if (hex.length !== bytes * 2) return { ok: false, why: `has ${hex.length / 2} bytes, want ${bytes}` };
  return { ok: true, hex: hex.toLowerCase() };
}

function spanIds(span: OtlpSpan): { traceId: string; spanId: string; parentSpanId: string } | Rejection {
  const name = JSON.stringify(span.name);
  const traceId = checkId(span.traceId, 16, false);
  if (!traceId.ok) return { reason: 'invalid_trace_id', message: `span ${name}: trace_id ${traceId.why}` };
  const spanId = checkId(span.spanId, 8, false);
  if (!spanId.ok) return { reason: 'invalid_span_id', message: `span ${name}: span_id ${spanId.why}` };
  const parent = checkId(span.parentSpanId, 8, true);
  if (!parent.ok) return { reason: 'invalid_parent_span_id', message: `span ${name}: parent_span_id ${parent.why}` };
  return { traceId: traceId.hex, spanId: spanId.hex, parentSpanId: parent.hex };
}

type LinkColumns = Pick<OtelTraceRow, 'Links.TraceId' | 'Links.SpanId' | 'Links.TraceState' | 'Links.Attributes'>;

function convertLinks(spanName: string, links: OtlpLink[]): LinkColumns | Rejection {
  const columns: LinkColumns = { 'Links.TraceId': [], 'Links.SpanId': [], 'Links.TraceState': [], 'Links.Attributes': [] };
  for (const link of links) {
    const traceId = checkId(link.traceId, 16, true);
    if (!traceId.ok) return { reason: 'invalid_link_id', message: `span ${JSON.stringify(spanName)}: link trace_id ${traceId.why}` };
    const spanId = checkId(link.spanId, 8, true);
    if (!spanId.ok) return { reason: 'invalid_link_id', message: `span ${JSON.stringify(spanName)}: link span_id ${spanId.why}` };
    columns['Links.TraceId'].push(traceId.hex);
    columns['Links.SpanId'].push(spanId.hex);
    columns['Links.TraceState'].push(link.traceState);
    columns['Links.Attributes'].push(attributesToMap(link.attributes));
  }
  return columns;
}

function tooDeep(spanName: string, where: 'resource' | 'span', err: AttributeTooDeepError): Rejection {
  return { reason: 'attribute_too_deep', message: `span ${JSON.stringify(spanName)}: ${where} ${err.message}` };
}

export function otlpToRows(request: OtlpTraceRequest): ConversionResult {
  const rows: OtelTraceRow[] = [];
  const rejections: Rejection[] = [];
  for (const rs of request.resourceSpans) {
    let resourceAttributes: Record<string, string>;
    try {
      resourceAttributes = attributesToMap(rs.resource?.attributes);
    } catch (err) {
      if (!(err instanceof AttributeTooDeepError)) throw err;
      for (const span of rs.scopeSpans.flatMap((ss) => ss.spans)) rejections.push(tooDeep(span.name, 'resource', err));
      continue;
    }
    // The exporter takes service.name with Str(), which is '' for a non-string value.
    const serviceValue = rs.resource?.attributes.find((kv) => kv.key === 'service.name')?.value;
    const serviceName = serviceValue?.stringValue ?? '';
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const ids = spanIds(span);
        if ('reason' in ids) {
          rejections.push(ids);
          continue;
        }
        try {
          const links = convertLinks(span.name, span.links);
          if ('reason' in links) {
            rejections.push(links);
            continue;
          }
          rows.push({
            Timestamp: formatTimestamp(BigInt(span.startTimeUnixNano)),
            TraceId: ids.traceId,
            SpanId: ids.spanId,
            ParentSpanId: ids.parentSpanId,
            TraceState: span.traceState,
            SpanName: span.name,
            SpanKind: SPAN_KINDS[span.kind] ?? 'Unspecified',
            ServiceName: serviceName,
            ResourceAttributes: resourceAttributes,
            ScopeName: ss.scope?.name ?? '',
            ScopeVersion: ss.scope?.version ?? '',
            SpanAttributes: attributesToMap(span.attributes),
            Duration: durationNs(span.startTimeUnixNano, span.endTimeUnixNano),
            StatusCode: STATUS_CODES[span.status?.code ?? 0] ?? 'Unset',
            StatusMessage: span.status?.message ?? '',
            'Events.Timestamp': span.events.map((e) => formatTimestamp(BigInt(e.timeUnixNano))),
            'Events.Name': span.events.map((e) => e.name),
            'Events.Attributes': span.events.map((e) => attributesToMap(e.attributes)),
            ...links,
          });
        } catch (err) {
          if (!(err instanceof AttributeTooDeepError)) throw err;
          rejections.push(tooDeep(span.name, 'span', err));
        }
      }
    }
  }
  return { rows, rejections };
}
