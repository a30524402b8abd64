/**
 * GenAI client metrics (OpenTelemetry semantic conventions), recorded once per call from the same
 * measurements as its span. Bucket boundaries are the conventions' recommended ones.
 */
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import type { CallSummary } from './call-recorder.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  GEN_AI_TOKEN_TYPE_VALUE_INPUT,
  GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
} from './semconv.ts';

/** Seconds: 0.01 × 2ⁿ up to 81.92. */
export const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** Tokens: 4ⁿ from 1 to 67 108 864. */
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** Span attributes that the metrics carry (low cardinality). */
const METRIC_ATTRIBUTES = [
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_SERVER_ADDRESS,
  // Conditionally required with server.address: two local servers on one host are two series.
  ATTR_SERVER_PORT,
  ATTR_ERROR_TYPE,
];

export class GenAiMetrics {
  readonly meter: Meter;
  readonly #duration: Histogram;
  readonly #timeToFirstChunk: Histogram;
  readonly #timePerOutputChunk: Histogram;
  readonly #tokenUsage: Histogram;

  constructor(meter: Meter) {
    this.meter = meter;
    const seconds = (name: string, description: string) =>
      meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
    this.#duration = seconds(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, 'GenAI operation duration.');
    this.#timeToFirstChunk = seconds(METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK, 'Time to receive the first chunk of a streamed response.');
    this.#timePerOutputChunk = seconds(METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK, 'Time between consecutive output chunks of a streamed response.');
    this.#tokenUsage = meter.createHistogram(METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
      unit: '{token}',
      description: 'Number of input and output tokens used.',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    });
  }

  record(call: CallSummary): void {
    const attrs: Attributes = {};
    for (const key of METRIC_ATTRIBUTES) {
      const value = call.attribute(key);
      if (value !== undefined) attrs[key] = value;
    }
    this.#duration.record(call.durationS, attrs);
    if (call.timeToFirstChunkS !== undefined) this.#timeToFirstChunk.record(call.timeToFirstChunkS, attrs);
    const gaps = call.chunkGapsS;
    for (let i = 0; i < gaps.length; i++) this.#timePerOutputChunk.record(gaps[i]!, attrs);
    if (call.usage.inputTokens !== undefined) this.#tokenUsage.record(call.usage.inputTokens, { ...attrs, [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_INPUT });
    if (call.usage.outputTokens !== undefined) this.#tokenUsage.record(call.usage.outputTokens, { ...attrs, [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_OUTPUT });
  }
}
