// Seed data of known truth for the Grafana query tests: four days of healthy traffic for one
// service on two models, then an incident hour in which 80 % of streamed calls miss the TTFT
// threshold and 20 % of calls error mid-stream. Every call is kept as a plain TS object (the truth)
// and turned into Collector-shaped otel_traces rows (what the dashboards query).
import { formatTimestamp, type OtelTraceRow } from '@llm-prism/storage';
import { otelTraceRow } from '@llm-prism/storage/testing';

export const SERVICE = 'demo-chat';
export const MODELS = ['gpt-4o', 'gpt-4o-mini'] as const;
/** End of the incident hour (minute-aligned): alert evaluation time with the incident. */
export const INCIDENT_END = Date.UTC(2026, 10, 20, 12, 0, 0);
export const INCIDENT_START = INCIDENT_END - 3_600_000;
/** Baseline traffic starts four days before the incident ends (longer than the 3-day window plus an hour). */
export const BASELINE_START = INCIDENT_END - 4 * 86_400_000;

export type Outcome = 'success' | 'error' | 'truncated' | 'refused' | 'aborted';

export interface SeedCall {
  traceId: string;
  spanId: string;
  start: number; // epoch ms
  model: string;
  provider: string;
  instance: string;
  streamed: boolean;
  outcome: Outcome;
  finishReason: string;
  errorType: string;
  durationMs: number;
  ttftMs: number | null;
  /** `llm.client_setup_ms`; null: recorded by an older release, without it. */
  clientSetupMs: number | null;
  queueMs: number;
  decodeMs: number | null;
  chunks: number;
  gapP95Ms: number;
  tokensPerSec: number;
  toolCallMs: number;
  cacheState: 'hit' | 'partial' | 'write' | 'miss' | 'none';
  missReason: string;
  breakAt: string;
  prefixHash: string;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  retries: number;
  rateLimited: number;
  headroom: number;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Call i of the baseline, or of the incident when `incident` is set; pure function of i. */
function makeCall(i: number, start: number, incident: boolean): SeedCall {
  const model = MODELS[i % 2] as string;
  const mini = model === 'gpt-4o-mini';
  const streamed = i % 40 !== 5;
  let outcome: Outcome = 'success';
  let ttftMs: number | null = mini ? 300 + (i % 5) * 100 : 600 + (i % 7) * 100;
  let durationMs = (ttftMs ?? 0) + 2_000 + (i % 9) * 500;
  if (!incident) {
    if (i % 50 === 0) ttftMs = 2_500; // 2 % slow first token
    if (i % 97 === 1) ttftMs = 1_500; // exactly on the threshold: good
    if (i % 89 === 2) ttftMs = 1_500.4; // just above: bucket 1510, bad
    if (i % 400 === 3) outcome = 'error'; // mid-stream error
    if (i % 600 === 7) outcome = 'truncated';
    if (i % 150 === 11) {
      outcome = 'aborted';
      const variant = Math.floor(i / 150) % 4;
      if (variant === 1) [ttftMs, durationMs] = [null, 5_000]; // gave up waiting for a first token
      if (variant === 2) durationMs = 25_000; // broke off a slow stream
      if (variant === 3) [ttftMs, durationMs] = [null, 1_000]; // gave up early: bad only for the 800 ms SLO
    }
    if (i % 400 === 13) durationMs = 25_000; // slow completion
    if (i % 1000 === 9) {
      ttftMs = null; // failed before the first chunk
      outcome = 'error';
    }
  } else {
    if (i % 5 !== 0) ttftMs = 2_500;
    if (i % 5 === 1) outcome = 'error';
    if (i % 10 === 3) [outcome, ttftMs, durationMs] = ['aborted', null, 5_000]; // users give up on the stall
  }
  if (!streamed) ttftMs = null;
  if (ttftMs !== null) durationMs = Math.max(durationMs, ttftMs + 1_000);
  const failedBeforeOutput = outcome === 'error' && ttftMs === null;
  const queueMs = 80 + (i % 6) * 20;
  // One call in ten of each model as an older release recorded it: no client set-up (its queue includes it).
  const clientSetupMs = Math.floor(i / 2) % 10 === 3 ? null : i % 25 === 0 ? 120 : 2 + (i % 4) * 3;
  const cacheCycle = ['hit', 'partial', 'write', 'miss', 'miss', 'none'] as const;
  const cacheState = cacheCycle[i % 6] as SeedCall['cacheState'];
  const missReasons = ['cold', 'expired', 'evicted', 'prefix_changed'];
  // A write is a miss too (the prefix read nothing and was stored): it has a miss reason.
  const missReason = cacheState === 'miss' || cacheState === 'write' ? (missReasons[Math.floor(i / 6) % 4] as string) : '';
  const inputTokens = 2_000 + (i % 11) * 100;
  const cacheReadTokens = cacheState === 'hit' ? 1_800 : cacheState === 'partial' ? 900 : 0;
  const cacheWriteTokens = cacheState === 'write' ? 1_800 : 0;
  const decodeMs = ttftMs === null ? null : durationMs - ttftMs;
  return {
    traceId: hex(i, 32),
    spanId: hex(i, 16),
    start,
    model,
    provider: mini ? 'openai' : i % 4 === 0 ? 'anthropic' : 'openai',
    instance: `pod-${i % 3}`,
    streamed,
    outcome,
    finishReason: outcome === 'truncated' ? 'length' : outcome === 'error' || outcome === 'aborted' ? '' : 'stop',
    errorType: outcome === 'error' ? (failedBeforeOutput ? '503' : 'APIConnectionError') : '',
    durationMs,
    ttftMs,
    clientSetupMs,
    queueMs,
    decodeMs,
    chunks: ttftMs === null ? 0 : 20 + (i % 30),
    gapP95Ms: 30 + (i % 13) * 5,
    tokensPerSec: 40 + (i % 17),
    toolCallMs: i % 8 === 0 ? 200 + (i % 5) * 50 : 0,
    cacheState,
    missReason,
    breakAt: missReason === 'prefix_changed' ? (['system', 'tools', 'messages[3]'][Math.floor(i / 24) % 3] as string) : '',
    prefixHash: cacheState === 'none' ? '' : hex(i % 7, 16),
    inputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    retries: i % 20 === 0 ? 2 : i % 7 === 0 ? 1 : 0,
    rateLimited: i % 20 === 0 ? 1 : 0,
    headroom: ((i * 37) % 100) / 100,
  };
}

/** Several instances writing the same prefix within a few seconds (a stampede), in the incident hour. */
export const STAMPEDE = { prefixHash: 'feedfacefeedface', at: INCIDENT_START + 30 * 60_000, writes: 6, instances: 3 };

export function seedCalls(): SeedCall[] {
  const calls: SeedCall[] = [];
  let i = 0;
  // Two calls a minute, 30 s apart, from the baseline start to the incident.
  for (let t = BASELINE_START; t < INCIDENT_END; t += 30_000) {
    const call = makeCall(i, t + (i % 29) * 1_000, t >= INCIDENT_START);
    calls.push(call);
    i++;
  }
  for (let k = 0; k < STAMPEDE.writes; k++) {
    const call = makeCall(i++, STAMPEDE.at + k * 1_000, true);
    calls.push({
      ...call,
      instance: `pod-${k % STAMPEDE.instances}`,
      cacheState: 'write',
      missReason: 'cold',
      breakAt: '',
      prefixHash: STAMPEDE.prefixHash,
      cacheReadTokens: 0,
      cacheWriteTokens: 1_800,
    });
  }
  return calls;
}

const ns = (ms: number) => BigInt(Math.round(ms * 1e6));

function callRow(c: SeedCall): OtelTraceRow {
  const attrs: Record<string, string> = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': c.provider,
    'gen_ai.request.model': c.model,
    'gen_ai.response.model': `${c.model}-2026-08-06`,
    'gen_ai.request.stream': String(c.streamed),
    'gen_ai.usage.input_tokens': String(c.inputTokens),
    'gen_ai.usage.output_tokens': '300',
    'gen_ai.usage.cache_read.input_tokens': String(c.cacheReadTokens),
    'gen_ai.usage.cache_creation.input_tokens': String(c.cacheWriteTokens),
    'gen_ai.usage.cache_write.input_tokens': String(c.cacheWriteTokens),
    'llm.outcome': c.outcome,
    'llm.queue_ms': String(c.queueMs),
    'llm.tool_call_ms': String(c.toolCallMs),
    'llm.stream.chunks': String(c.chunks),
    'llm.stream.gap_p95_ms': String(c.gapP95Ms),
    'llm.decode.tokens_per_second': String(c.tokensPerSec),
    'llm.attempts': String(c.retries + 1),
    'llm.retries': String(c.retries),
    'llm.rate_limited_attempts': String(c.rateLimited),
    'llm.ratelimit.headroom': String(c.headroom),
    'llm.cache.state': c.cacheState,
  };
  if (c.finishReason !== '') attrs['gen_ai.response.finish_reasons'] = JSON.stringify([c.finishReason]);
  if (c.errorType !== '') attrs['error.type'] = c.errorType;
  if (c.clientSetupMs !== null) attrs['llm.client_setup_ms'] = String(c.clientSetupMs);
  if (c.ttftMs !== null) {
    attrs['llm.ttft_ms'] = String(c.ttftMs);
    attrs['llm.prefill_ms'] = String(prefillMs(c));
  }
  if (c.decodeMs !== null) attrs['llm.decode_ms'] = String(c.decodeMs);
  if (c.missReason !== '') attrs['llm.cache.miss_reason'] = c.missReason;
  if (c.breakAt !== '') attrs['llm.cache.break_at'] = c.breakAt;
  if (c.prefixHash !== '') attrs['llm.cache.prefix_hash'] = c.prefixHash;
  return otelTraceRow({
    Timestamp: formatTimestamp(ns(c.start)),
    TraceId: c.traceId,
    SpanId: c.spanId,
    SpanName: `chat ${c.model}`,
    SpanKind: 'Client',
    ServiceName: SERVICE,
    ResourceAttributes: { 'service.name': SERVICE, 'service.instance.id': c.instance },
    ScopeName: '@llm-prism/instrumentation',
    SpanAttributes: attrs,
    Duration: Number(ns(c.durationMs)),
    StatusCode: c.outcome === 'error' ? 'Error' : 'Unset',
  });
}

/** `llm.prefill_ms` as the instrumentation derives it: TTFT − client set-up − queue. */
export const prefillMs = (c: SeedCall): number => (c.ttftMs as number) - (c.clientSetupMs ?? 0) - c.queueMs;

/** The call's phase sub-spans (llm.ttft ⊃ llm.client_setup, llm.queue; llm.decode), for the trace view. */
function phaseRows(c: SeedCall): OtelTraceRow[] {
  if (c.ttftMs === null || c.decodeMs === null) return [];
  const child = (suffix: number, parent: string, name: string, startMs: number, durMs: number): OtelTraceRow =>
    otelTraceRow({
      Timestamp: formatTimestamp(ns(startMs)),
      TraceId: c.traceId,
      SpanId: `${c.spanId.slice(0, 14)}${hex(suffix, 2)}`,
      ParentSpanId: parent,
      SpanName: name,
      SpanKind: 'Internal',
      ServiceName: SERVICE,
      Duration: Number(ns(durMs)),
    });
  const ttft = child(1, c.spanId, 'llm.ttft', c.start, c.ttftMs);
  const setupMs = c.clientSetupMs ?? 0;
  const answeredAt = c.start + setupMs + c.queueMs;
  return [
    ttft,
    child(4, ttft.SpanId, 'llm.client_setup', c.start, setupMs),
    { ...child(2, ttft.SpanId, 'llm.queue', c.start + setupMs, c.queueMs), 'Events.Name': ['llm.http.attempt'], 'Events.Timestamp': [formatTimestamp(ns(answeredAt))], 'Events.Attributes': [{ 'llm.attempt': '1', 'http.response.status_code': '200' }] },
    child(3, c.spanId, 'llm.decode', c.start + c.ttftMs, c.decodeMs),
  ];
}

/**
 * otel_traces rows: every call span and phase spans for the incident's calls; `redelivered` holds
 * every 97th call span again, to insert in a later batch as an exporter retry would.
 */
export function seedRows(calls: readonly SeedCall[]): { rows: OtelTraceRow[]; redelivered: OtelTraceRow[] } {
  const rows: OtelTraceRow[] = [];
  const redelivered: OtelTraceRow[] = [];
  calls.forEach((c, i) => {
    rows.push(callRow(c));
    if (c.start >= INCIDENT_START) rows.push(...phaseRows(c));
    if (i % 97 === 0) redelivered.push(callRow(c));
  });
  return { rows, redelivered };
}
