// Protobuf OTLP messages for tests: requests written and responses read with the protobufjs
// classes OpenTelemetry JS generated from the official opentelemetry-proto files (otlp-transformer
// 0.216, the last release shipping them, a dev dependency aliased as `otlp-proto-root`), so the
// service's own reader and writer are checked against an independent encoding.
import protoRoot from 'otlp-proto-root/build/src/generated/root.js';
import { responseTypes } from '../src/otlp-codec.ts';
import type { OtlpTraceRequest } from '../src/types.ts';

interface GeneratedMessage {
  decode(reader: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(object: object): object;
  toObject(message: object, options: object): object;
}

export const traceV1 = (
  protoRoot as unknown as {
    opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: GeneratedMessage; ExportTraceServiceResponse: GeneratedMessage } } } } };
  }
).opentelemetry.proto.collector.trace.v1;

/**
 * Encodes an OTLP/JSON-shaped request (hex ids) as protobuf. Hex that is not valid encodes as the
 * bytes Node's hex decoder keeps.
 */
export function encodeProtobufRequest(request: OtlpTraceRequest | object): Uint8Array {
  const copy = structuredClone(request) as OtlpTraceRequest;
  mapIds(copy, (hex) => Buffer.from(hex ?? '', 'hex').toString('base64'));
  return traceV1.ExportTraceServiceRequest.encode(traceV1.ExportTraceServiceRequest.fromObject(copy)).finish();
}

/** Rewrites every span and link id in place. */
function mapIds(request: OtlpTraceRequest, map: (id: string) => string): void {
  for (const rs of request.resourceSpans ?? []) {
    for (const ss of rs?.scopeSpans ?? []) {
      for (const span of ss?.spans ?? []) {
        span.traceId = map(span.traceId);
        span.spanId = map(span.spanId);
        span.parentSpanId = map(span.parentSpanId);
        for (const link of span.links ?? []) {
          link.traceId = map(link.traceId);
          link.spanId = map(link.spanId);
        }
      }
    }
  }
}

/** Reads a protobuf ExportTraceServiceResponse with the generated class. */
export function decodeExportResponse(body: Uint8Array): { partialSuccess?: { rejectedSpans: string; errorMessage: string } } {
  const message = traceV1.ExportTraceServiceResponse.decode(body);
  return traceV1.ExportTraceServiceResponse.toObject(message, { longs: String }) as {
    partialSuccess?: { rejectedSpans: string; errorMessage: string };
  };
}

/** Reads a protobuf google.rpc.Status (not among the generated classes: the service's own declaration). */
export function decodeStatus(body: Uint8Array): { code: number; message: string } {
  const { RpcStatus } = responseTypes;
  return RpcStatus.toObject(RpcStatus.decode(body), { defaults: true }) as { code: number; message: string };
}
