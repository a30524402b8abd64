// LLM calls of known truth for the report's tests: one `SeededCall` a stored span, with the
// attributes the instrumentation writes, so each test can recompute every figure from its seed.
import { formatTimestamp } from '@llm-prism/storage';
import { otelTraceRow } from '@llm-prism/storage/testing';

export interface SeededCall {
  service: string;
  model: string;
  provider: string;
  /** Seconds before `endMs` of `seededCallRow`. */
  ago: number;
  /** Absent: streamed when it has a TTFT. */
  streamed?: boolean;
  outcome: 'success' | 'error' | 'truncated' | 'aborted';
  finish?: string;
  errorType?: string;
  /** Absent: no `llm.client_setup_ms` (another instrumentation, an older release). */
  setup?: number;
  queue: number;
  /** Absent: no first chunk (not streamed, or none came). */
  ttft?: number;
  decode?: number;
  duration: number;
  cache: 'hit' | 'write' | 'miss' | 'none';
  missReason?: string;
  breakAt?: string;
  retries?: number;
  /** Absent: no `llm.rate_limited_attempts` attribute. */
  rateLimited?: number;
  headroom?: number;
  /** Absent: no `gen_ai.usage.*` attributes. */
  inputTokens?: number;
  cacheReadTokens?: number;
}

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

/** The trace id of the call at `index` of the seed. */
export const seededTraceId = (index: number) => hex(index + 1, 32);

/** The span of the call at `index` of the seed, which started `call.ago` seconds before `endMs`. */
export function seededCallRow(call: SeededCall, index: number, endMs: number) {
  const attrs: Record<string, string> = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': call.provider,
    'gen_ai.request.model': call.model,
    'gen_ai.request.stream': String(streamed(call)),
    'llm.outcome': call.outcome,
    'llm.queue_ms': String(call.queue),
    'llm.cache.state': call.cache,
    'llm.attempts': String(1 + (call.retries ?? 0)),
    'llm.retries': String(call.retries ?? 0),
  };
  if (call.rateLimited !== undefined) attrs['llm.rate_limited_attempts'] = String(call.rateLimited);
  if (call.inputTokens !== undefined) attrs['gen_ai.usage.input_tokens'] = String(call.inputTokens);
  if (call.cacheReadTokens !== undefined) attrs['gen_ai.usage.cache_read.input_tokens'] = String(call.cacheReadTokens);
  if (call.finish) attrs['gen_ai.response.finish_reasons'] = JSON.stringify([call.finish]);
  if (call.errorType) attrs['error.type'] = call.errorType;
  if (call.setup !== undefined) attrs['llm.client_setup_ms'] = String(call.setup);
  if (call.ttft !== undefined) Object.assign(attrs, { 'llm.ttft_ms': String(call.ttft), 'llm.prefill_ms': String(prefillOf(call)) });
  if (call.decode !== undefined) attrs['llm.decode_ms'] = String(call.decode);
  if (call.missReason) attrs['llm.cache.miss_reason'] = call.missReason;
  if (call.breakAt) attrs['llm.cache.break_at'] = call.breakAt;
  if (call.headroom !== undefined) attrs['llm.ratelimit.headroom'] = String(call.headroom);
  return otelTraceRow({
    Timestamp: formatTimestamp(BigInt(endMs - call.ago * 1000) * 1_000_000n),
    TraceId: seededTraceId(index),
    SpanId: hex(index + 1, 16),
    SpanName: `chat ${call.model}`,
    SpanKind: 'Client',
    ServiceName: call.service,
    SpanAttributes: attrs,
    Duration: call.duration * 1_000_000,
    StatusCode: call.outcome === 'error' ? 'Error' : 'Unset',
  });
}

/** `llm.prefill_ms` as the instrumentation derives it: TTFT − client set-up − queue. */
export const prefillOf = (call: Pick<SeededCall, 'ttft' | 'setup' | 'queue'>): number => call.ttft! - (call.setup ?? 0) - call.queue;

/**
 * The percentile the report and the dashboards read (@llm-prism/storage latency-histogram.ts): the
 * value of nearest rank ⌈level × n⌉ of the sorted values.
 */
export function nearestRank(values: number[], level: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(level * sorted.length)) - 1]!;
}

const streamed = (call: Pick<SeededCall, 'streamed' | 'ttft'>): boolean => call.streamed ?? call.ttft !== undefined;

/** The calls the phase percentiles are over (storage call-hours.ts): streamed and not broken off. */
export const phaseCalls = <C extends Pick<SeededCall, 'streamed' | 'ttft' | 'outcome'>>(calls: C[]): C[] =>
  calls.filter((c) => streamed(c) && c.outcome !== 'aborted');

/** The calls the TTFT percentiles are over: streamed ones with a first chunk. */
export const ttftCalls = <C extends Pick<SeededCall, 'streamed' | 'ttft'>>(calls: C[]): C[] => calls.filter((c) => streamed(c) && c.ttft !== undefined);
