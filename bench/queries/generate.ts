// Synthetic LLM calls generated inside ClickHouse: INSERT … SELECT from numbers() into otel_traces,
// so the materialized views build llm_calls and the SLO rollups exactly as for ingested spans.
// Every value is a pure function of the call number (cityHash64), so a run is reproducible. Chunk c
// holds every C-th call of the whole period (C chunks), so each chunk spans all 30 days and a run
// stopped early by its time budget still covers the period evenly, at a lower rate.
import type { Storage } from '@llm-prism/storage';

const SERVICES = ['demo-chat', 'checkout', 'search', 'support'] as const;
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'gemini-2.5-flash'] as const;
const PROVIDERS = ['openai', 'openai', 'anthropic', 'gcp.gemini'] as const;

const list = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

/** Uniform in [0, 1) from call number and a salt. */
const u = (salt: number) => `(cityHash64(number, ${salt}) % 1000000) / 1000000`;

/** The SELECT of one chunk of calls; {first}, {count}, {chunks}, {per_chunk}, {start_ns}, {step_ns} are query parameters. */
export const GENERATE_SELECT = `
SELECT
  fromUnixTimestamp64Nano(toInt64({start_ns:Int64} + ((number % {per_chunk:UInt64}) * {chunks:UInt64} + intDiv(number, {per_chunk:UInt64})) * {step_ns:Int64} + cityHash64(number, 1) % {step_ns:Int64})) AS Timestamp,
  concat(leftPad(lower(hex(cityHash64(number, 2))), 16, '0'), leftPad(lower(hex(cityHash64(number, 3))), 16, '0')) AS TraceId,
  leftPad(lower(hex(cityHash64(number, 4))), 16, '0') AS SpanId,
  '' AS ParentSpanId,
  '' AS TraceState,
  concat('chat ', model) AS SpanName,
  'Client' AS SpanKind,
  arrayElement(${list(SERVICES)}, 1 + number % ${SERVICES.length}) AS ServiceName,
  map('service.name', ServiceName, 'service.instance.id', concat('pod-', toString(number % 7))) AS ResourceAttributes,
  '@llm-prism/instrumentation' AS ScopeName,
  '0.1.0' AS ScopeVersion,
  mapFilter((k, v) -> v != '', map(
    'gen_ai.operation.name', 'chat',
    'gen_ai.provider.name', provider,
    'gen_ai.request.model', model,
    'gen_ai.response.model', concat(model, '-2026-08-06'),
    'gen_ai.response.id', concat('chatcmpl-', SpanId),
    'gen_ai.request.stream', if(streamed, 'true', 'false'),
    'gen_ai.response.finish_reasons', multiIf(outcome = 'truncated', '["length"]', outcome IN ('error', 'aborted'), '', '["stop"]'),
    'gen_ai.usage.input_tokens', toString(inputTokens),
    'gen_ai.usage.output_tokens', toString(outputTokens),
    'gen_ai.usage.cache_read.input_tokens', toString(cacheRead),
    'gen_ai.response.time_to_first_chunk', if(streamed, toString(ttft / 1000), ''),
    'server.address', 'api.example.com',
    'server.port', '443',
    'error.type', if(outcome = 'error', 'server_error', ''),
    'llm.outcome', outcome,
    'llm.queue_ms', toString(queue),
    'llm.ttft_ms', if(streamed, toString(ttft), ''),
    'llm.prefill_ms', if(streamed, toString(ttft - queue), ''),
    'llm.decode_ms', if(streamed, toString(decode), ''),
    'llm.tool_call_ms', if(streamed, toString(tool), ''),
    'llm.stream.chunks', if(streamed, toString(chunks), ''),
    'llm.stream.gap_p50_ms', if(streamed, toString(round(decode / chunks, 3)), ''),
    'llm.stream.gap_p95_ms', if(streamed, toString(round(2.5 * decode / chunks, 3)), ''),
    'llm.stream.gap_max_ms', if(streamed, toString(round(6 * decode / chunks, 3)), ''),
    'llm.decode.tokens_per_second', if(streamed, toString(round(outputTokens / (decode / 1000), 3)), ''),
    'llm.attempts', toString(1 + retries),
    'llm.retries', toString(retries),
    'llm.rate_limited_attempts', toString(retries),
    'llm.ratelimit.headroom', toString(round(${u(11)}, 3)),
    'llm.cache.state', cacheState,
    'llm.cache.miss_reason', if(cacheState = 'miss', arrayElement(['cold', 'expired', 'evicted', 'prefix_changed'], 1 + cityHash64(number, 12) % 4), ''),
    'llm.cache.prefix_hash', if(cacheState = 'none', '', leftPad(lower(hex(cityHash64(number % 5000))), 16, '0')),
    'llm.prompt.hash', leftPad(lower(hex(cityHash64(promptKey, 21))), 16, '0')
  )) AS SpanAttributes,
  toUInt64(duration * 1e6) AS Duration,
  if(outcome = 'error', 'Error', 'Unset') AS StatusCode,
  '' AS StatusMessage
FROM (
  SELECT
    number,
    arrayElement(${list(MODELS)}, 1 + intDiv(number, ${SERVICES.length}) % ${MODELS.length}) AS model,
    arrayElement(${list(PROVIDERS)}, 1 + intDiv(number, ${SERVICES.length}) % ${MODELS.length}) AS provider,
    cityHash64(number, 5) % 10 != 0 AS streamed,
    round(20 + 200 * ${u(6)}, 3) AS queue,
    -- Prefill skewed towards short, with a long tail (a few percent beyond the TTFT thresholds).
    round(queue + 100 + 3000 * pow(${u(7)}, 4), 3) AS ttft,
    round(300 + 12000 * pow(${u(8)}, 2), 3) AS decode,
    if(cityHash64(number, 9) % 8 = 0, round(100 + 400 * ${u(10)}, 3), 0) AS tool,
    ttft + decode AS duration,
    toUInt32(20 + cityHash64(number, 13) % 280) AS chunks,
    chunks * 2 AS outputTokens,
    toUInt32(500 + cityHash64(number, 14) % 6000) AS inputTokens,
    arrayElement(['hit', 'partial', 'write', 'miss', 'none'], 1 + cityHash64(number, 15) % 5) AS cacheState,
    multiIf(cacheState = 'hit', intDiv(inputTokens * 9, 10), cacheState = 'partial', intDiv(inputTokens, 2), 0) AS cacheRead,
    if(cityHash64(number, 16) % 25 = 0, 1 + cityHash64(number, 17) % 2, 0) AS retries,
    -- Repeated prompts (llm.prompt.hash): calls of one slot (same number % per_chunk) share service and
    -- model when per_chunk is a multiple of 16 (500 000 at 10 M calls), and sit up to chunks positions apart
    -- in time (~5 s at 10 M calls / 30 days). About 3 % of calls repeat the prompt of an earlier call of
    -- their slot (duplicates, docs/cost.md), 1 % the prompt of the call 16 slots earlier (~83 s: a
    -- repeat outside the duplicate window).
    intDiv(number, {per_chunk:UInt64}) AS lane,
    number % {per_chunk:UInt64} AS slot,
    slot * {chunks:UInt64} + lane AS position,
    cityHash64(number, 19) % 100 AS repeatDraw,
    multiIf(repeatDraw < 3 AND lane > 0, slot * {chunks:UInt64} + cityHash64(number, 20) % lane,
            repeatDraw = 3 AND slot >= 16, position - 16 * {chunks:UInt64},
            position) AS promptKey,
    multiIf(${u(18)} < 0.01, 'error', ${u(18)} < 0.015, 'truncated', ${u(18)} < 0.02, 'aborted', ${u(18)} < 0.022, 'refused', 'success') AS outcome
  FROM numbers({first:UInt64}, {count:UInt64})
)`;

export interface GenerateOptions {
  calls: number;
  /** End of the period, epoch ms. */
  end: number;
  days: number;
  chunks: number;
  /** Stop after the chunk that crosses this many seconds. */
  budgetSeconds: number;
  onChunk?: (done: number, elapsedMs: number) => void;
}

/** Inserts up to `calls` LLM call spans spread evenly over [end − days, end); returns how many and the seconds taken. */
export async function generateCalls(storage: Storage, opts: GenerateOptions): Promise<{ calls: number; seconds: number }> {
  const perChunk = Math.ceil(opts.calls / opts.chunks);
  const spanNs = BigInt(opts.days) * 86_400_000_000_000n;
  const stepNs = spanNs / BigInt(perChunk * opts.chunks);
  const startNs = BigInt(opts.end) * 1_000_000n - spanNs;
  const t0 = performance.now();
  let done = 0;
  for (let c = 0; c < opts.chunks && (performance.now() - t0) / 1000 < opts.budgetSeconds; c++) {
    await storage.client.command({
      query: `INSERT INTO ${storage.database}.otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage) ${GENERATE_SELECT}`,
      query_params: { first: c * perChunk, count: perChunk, chunks: opts.chunks, per_chunk: perChunk, start_ns: startNs.toString(), step_ns: stepNs.toString() },
    });
    done += perChunk;
    opts.onChunk?.(done, performance.now() - t0);
  }
  return { calls: done, seconds: (performance.now() - t0) / 1000 };
}
