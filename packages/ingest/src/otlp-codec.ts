// OTLP/HTTP trace payloads in and out. Requests are read by otlp-protobuf.ts (protobuf) and
// otlp-json.ts (JSON); responses, and requests for clients and tests, are written with the
// protobufjs classes that OpenTelemetry JS generated from the official opentelemetry-proto
// definitions (otlp-transformer 0.216, the last release shipping them; aliased as `otlp-proto-root`).
import protobuf from 'protobufjs';
import protoRoot from 'otlp-proto-root/build/src/generated/root.js';
import { readTraceRequest } from './otlp-protobuf.ts';
import type { OtlpTraceRequest } from './types.ts';

interface GeneratedMessage {
  decode(reader: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(object: object): object;
  toObject(message: object, options: protobuf.IConversionOptions): object;
}

const traceV1 = (
  protoRoot as unknown as {
    opentelemetry: {
      proto: {
        collector: {
          trace: {
            v1: { ExportTraceServiceRequest: GeneratedMessage; ExportTraceServiceResponse: GeneratedMessage };
          };
        };
      };
    };
  }
).opentelemetry.proto.collector.trace.v1;

// google.rpc.Status, the body of OTLP/HTTP error responses; `details` is never sent.
const RpcStatus = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().define('google.rpc').add(RpcStatus);

export type OtlpEncoding = 'protobuf' | 'json';

export class MalformedPayloadError extends Error {}

/** Decodes an `application/x-protobuf` ExportTraceServiceRequest. Ids become lower-case hex. */
export function decodeProtobufRequest(body: Uint8Array): OtlpTraceRequest {
  try {
    // The reader recurses per AnyValue level: values nested thousands deep overflow the stack here.
    return readTraceRequest(body);
  } catch (err) {
    throw new MalformedPayloadError(`malformed protobuf ExportTraceServiceRequest: ${describe(err)}`);
  }
}

/** The decoder's message; a stack overflow means values nested too deep to decode. */
function describe(err: unknown): string {
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'attribute values nested too deeply to decode';
  return (err as Error).message;
}

/**
 * Encodes an OTLP/JSON-shaped request (hex ids) as protobuf; for clients and tests. Hex that is
 * not valid encodes as the bytes Node's hex decoder keeps.
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

export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** ExportTraceServiceResponse; `partial_success` only when something was rejected, as the spec asks. */
export function encodeExportResponse(encoding: OtlpEncoding, partial?: PartialSuccess): Uint8Array | string {
  const response = partial ? { partialSuccess: { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage } } : {};
  if (encoding === 'json') {
    // OTLP/JSON writes int64 as a decimal string.
    return JSON.stringify(
      partial ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {},
    );
  }
  const message = traceV1.ExportTraceServiceResponse.fromObject(response);
  return traceV1.ExportTraceServiceResponse.encode(message).finish();
}

/** The error body OTLP/HTTP prescribes: a google.rpc.Status in the request's encoding. */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify({ code, message });
  return RpcStatus.encode(RpcStatus.create({ code, message })).finish();
}

/** For tests and clients: reads a protobuf google.rpc.Status. */
export function decodeStatus(body: Uint8Array): { code: number; message: string } {
  return RpcStatus.toObject(RpcStatus.decode(body), { defaults: true }) as { code: number; message: string };
}

/** For tests and clients: reads a protobuf ExportTraceServiceResponse. */
export function decodeExportResponse(body: Uint8Array): { partialSuccess?: { rejectedSpans: string; errorMessage: string } } {
  const message = traceV1.ExportTraceServiceResponse.decode(body);
  return traceV1.ExportTraceServiceResponse.toObject(message, { longs: String }) as {
    partialSuccess?: { rejectedSpans: string; errorMessage: string };
  };
}
