/**
 * The Vercel AI SDK with its own OpenTelemetry spans on (`experimental_telemetry`, `ai` 5 and 6:
 * `ai.streamText` ⊃ `ai.streamText.doStream`, `ai.generateText` ⊃ `ai.generateText.doGenerate`):
 * our call span nests under the `doStream` / `doGenerate` span of its model request, and no call is
 * counted twice — proven end to end: the spans go through the OTLP JSON encoding, the ingest's
 * conversion and real chDB storage, and `llm_calls` holds exactly one row per model request (the
 * AI SDK's spans are INTERNAL and carry no `gen_ai.operation.name`, which storage requires).
 */
import { SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeJsonRequest, otlpToRows } from '@llm-prism/ingest';
import { scenarioHeaders } from '@llm-prism/simulator';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWireHarness, weatherAndTime } from '../test/contract.ts';
import { AI_MAJORS, loadAi, type Any, type LoadedAi } from '../test/ai-sdk-harness.ts';
import { TIMING, finishedCalls, sleep } from '../test/harness.ts';
import { uniquePrompt } from '../test/sdk-majors-harness.ts';

const h = useWireHarness();
let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  await storage.migrate();
});
afterAll(async () => {
  await storage?.close();
});

/** Every finished span through OTLP JSON and the ingest's conversion into otel_traces. */
async function store(spans: ReadableSpan[]): Promise<void> {
  const body = JsonTraceSerializer.serializeRequest(spans);
  const { rows, rejections } = otlpToRows(decodeJsonRequest(new TextDecoder().decode(body)));
  expect(rejections).toEqual([]);
  await storage.insertSpans(rows);
}

async function llmCalls(traceIds: string[]): Promise<Array<{ SpanId: string; Attempts: number; Provider: string; Outcome: string }>> {
  const result = await storage.client.query({
    query: `SELECT SpanId, Attempts, Provider, Outcome FROM ${storage.database}.llm_calls WHERE TraceId IN {ids:Array(String)} ORDER BY Timestamp`,
    query_params: { ids: traceIds },
    format: 'JSONEachRow',
  });
  return (await result.json()) as Array<{ SpanId: string; Attempts: number; Provider: string; Outcome: string }>;
}

const parentOf = (span: ReadableSpan, all: ReadableSpan[]): ReadableSpan | undefined => all.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);

// `ai` 7 moved its OpenTelemetry spans into the separate `@ai-sdk/otel` integration, whose CLIENT
// `chat` spans test/register-ai-otel.test.ts covers (from a plain Node process: under vitest that
// package's pinned @opentelemetry/api 1.9 resolves to its bundler-only ESM build).
describe.each(AI_MAJORS.filter((m) => !m.esm))('$label with experimental_telemetry', (major) => {
  let sdk: LoadedAi;
  let openai: Any;
  beforeAll(async () => {
    sdk = await loadAi(major);
    openai = sdk.openai.createOpenAI({ baseURL: h.sim.openaiBaseURL, apiKey: 'test-key' });
  });

  it('a two-step tool loop and a retried call: our calls under doStream / doGenerate, one llm_calls row per model request', TIMING, async () => {
    const telemetry = { isEnabled: true, tracer: h.provider.getTracer('ai') };
    const tool = () => sdk.ai.tool({ description: 'a tool', inputSchema: sdk.ai.jsonSchema({ type: 'object' }), execute: async () => 'done' });
    const result = sdk.ai.streamText({
      model: openai.chat('gpt-4o'),
      prompt: uniquePrompt('Weather and time?'),
      tools: { get_weather: tool(), get_time: tool() },
      stopWhen: sdk.ai.stepCountIs(2),
      headers: scenarioHeaders({ chunks: 2, toolCalls: weatherAndTime(2, 2) }),
      experimental_telemetry: telemetry,
    });
    for await (const _ of result.fullStream) void _;
    const retried = await sdk.ai.generateText({
      model: openai.chat('gpt-4o-mini'),
      prompt: uniquePrompt('Retry me'),
      headers: scenarioHeaders({ httpErrors: { status: 429, count: 1, retryAfterS: 0.1 }, chunks: 2 }),
      experimental_telemetry: telemetry,
    });
    expect(retried.text.length).toBeGreaterThan(0);

    // ai 5's own retry loop cannot be grouped: its retry is a call of its own (docs/conventions.md).
    const expectedCalls = major.groupedRetries ? 3 : 4;
    await finishedCalls(h.exporter, expectedCalls);
    await sleep(100);
    const spans = h.exporter.getFinishedSpans();
    const calls = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(calls).toHaveLength(expectedCalls);
    const doStream = spans.filter((s) => s.name === 'ai.streamText.doStream');
    const doGenerate = spans.filter((s) => s.name === 'ai.generateText.doGenerate');
    expect(doStream).toHaveLength(2);
    // The AI SDK opens one doGenerate span per attempt (its retry loop runs around it).
    expect(doGenerate).toHaveLength(2);
    for (const call of calls) expect(['ai.streamText.doStream', 'ai.generateText.doGenerate']).toContain(parentOf(call, spans)?.name);
    // Each model request of the tool loop has its own call under its own doStream span.
    expect(new Set(calls.filter((c) => parentOf(c, spans)?.name === 'ai.streamText.doStream').map((c) => c.parentSpanContext?.spanId))).toEqual(new Set(doStream.map((s) => s.spanContext().spanId)));
    // The AI SDK's spans are not calls: INTERNAL, no gen_ai.operation.name.
    for (const s of [...doStream, ...doGenerate]) {
      expect(s.kind).toBe(SpanKind.INTERNAL);
      expect(s.attributes['gen_ai.operation.name']).toBeUndefined();
    }

    await store(spans);
    await store(spans); // delivered twice: still counted once
    const traceIds = [...new Set(spans.map((s) => s.spanContext().traceId))];
    const rows = await llmCalls(traceIds);
    expect(rows.map((r) => r.SpanId).sort()).toEqual(calls.map((c) => c.spanContext().spanId).sort());
    expect(rows.every((r) => r.Provider === 'openai')).toBe(true);
    if (major.groupedRetries) {
      expect(rows.map((r) => Number(r.Attempts))).toEqual([1, 1, 2]);
      expect(rows.map((r) => r.Outcome)).toEqual(['success', 'success', 'success']);
    }
  });
});

