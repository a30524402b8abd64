// OTLP/HTTP trace payloads in and out. Requests are read by otlp-protobuf.ts (protobuf) and
// otlp-json.ts (JSON); the two small messages the service writes, the export response and the
// error status, are declared here with protobufjs' reflection, field for field as in
// opentelemetry-proto and googleapis (a dependency on OpenTelemetry's generated classes pulled a
// whole OTel SDK 2.x into every install, for these two).
import protobuf from 'protobufjs';
import { readTraceRequest } from './otlp-protobuf.ts';
import type { OtlpTraceRequest } from './types.ts';

// opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse and its partial success.
const PartialSuccessType = new protobuf.Type('ExportTracePartialSuccess')
  .add(new protobuf.Field('rejectedSpans', 1, 'int64'))
  .add(new protobuf.Field('errorMessage', 2, 'string'));
const ExportResponse = new protobuf.Type('ExportTraceServiceResponse')
  .add(new protobuf.Field('partialSuccess', 1, 'ExportTracePartialSuccess'))
  .add(PartialSuccessType);

// google.rpc.Status, the body of OTLP/HTTP error responses; `details` is never sent.
const RpcStatus = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().define('google.rpc').add(RpcStatus);
new protobuf.Root().define('opentelemetry.proto.collector.trace.v1').add(ExportResponse);

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
  return ExportResponse.encode(ExportResponse.fromObject(response)).finish();
}

/** The error body OTLP/HTTP prescribes: a google.rpc.Status in the request's encoding. */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify({ code, message });
  return RpcStatus.encode(RpcStatus.create({ code, message })).finish();
}

/** The two response messages, for clients that read the service's answers (tests among them). */
export const responseTypes = { ExportResponse, RpcStatus };
