// One request body to rows: decode (protobuf or JSON) and convert. Runs in the decode workers
// (decode-worker.ts), so it must not load chDB: only the storage package's rows module.
import { decodeProtobufRequest, type OtlpEncoding } from './otlp-codec.ts';
import { decodeJsonRequest } from './otlp-json.ts';
import { otlpToRows, type ConversionResult } from './otlp-to-rows.ts';

/** Throws MalformedPayloadError for a body that is not an ExportTraceServiceRequest. */
export function decodeRequest(encoding: OtlpEncoding, body: Uint8Array): ConversionResult {
  const request = encoding === 'protobuf' ? decodeProtobufRequest(body) : decodeJsonRequest(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  return otlpToRows(request);
}
