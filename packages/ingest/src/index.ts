export { createIngestApp, type IngestAppOptions } from './app.ts';
export { GroupCommit, type GroupCommitOptions, type SpanSink } from './group-commit.ts';
export { HttpError } from './http-error.ts';
export { IngestMetrics } from './metrics.ts';
export { decodeProtobufRequest, encodeExportResponse, type OtlpEncoding } from './otlp-codec.ts';
export { decodeJsonRequest } from './otlp-json.ts';
export { otlpToRows, type ConversionResult, type Rejection } from './otlp-to-rows.ts';
export { listenAddress, startIngest, tokensFromEnv, type IngestOptions, type IngestServer } from './server.ts';
export type * from './types.ts';
