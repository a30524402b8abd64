/** `@google/genai` against the simulator: span tree, timings, usage, function calls, failures. */
import { createRequire } from 'node:module';
import { SpanStatusCode } from '@opentelemetry/api';
import type { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { GEMINI_MODEL as model, PROMPT, PROMPT_TOKENS, STREAM_TIMINGS, WHOLE_TOOL_CALLS, breakAfter, drain, expectAbortedAt, expectDroppedCall, expectToolSpans, expectUnstreamedCall, geminiRequest as request, now, readLate, readUntilError, useHarness } from '../test/contract.ts';
import { TIMING, durationMs, endMs, expectNear, expectStreamedTree, finishedCalls, treeOf } from '../test/harness.ts';
import { withLlmContext } from './context.ts';

const h = useHarness();

describe('models.generateContentStream', () => {
  it('splits the call into queue, prefill and decode at arrival times, with the last usageMetadata', TIMING, async () => {
    const { started, pullStart, items: chunks } = await readLate(
      () => h.gemini.models.generateContentStream(request({ ...STREAM_TIMINGS, tokensPerChunk: 2 })),
      1000,
    );

    const [call] = await finishedCalls(h.exporter);
    const t = expectStreamedTree(h.exporter, call!, { name: `generate_content ${model}`, started, pullStart, ...STREAM_TIMINGS });

    const last = chunks.at(-1)!;
    expect(last.usageMetadata?.candidatesTokenCount).toBe(40);
    expect(t.call.attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': model,
      'gen_ai.request.stream': true,
      'gen_ai.response.id': last.responseId,
      'gen_ai.response.model': last.modelVersion,
      'gen_ai.response.finish_reasons': ['STOP'],
      'gen_ai.usage.input_tokens': PROMPT_TOKENS,
      'gen_ai.usage.output_tokens': 40,
      'gen_ai.usage.cache_read.input_tokens': 0,
      'server.address': '127.0.0.1',
      'llm.stream.chunks': 20,
      'llm.attempts': 1,
      'llm.outcome': 'success',
    });
    // Gemini reports no cache writes, and this answer no thoughtsTokenCount: absent, not 0.
    expect(last.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    expect(t.call.attributes['gen_ai.usage.cache_write.input_tokens']).toBeUndefined();
    expect(t.call.attributes['gen_ai.usage.reasoning.output_tokens']).toBeUndefined();
    expect(t.call.status.code).toBe(SpanStatusCode.UNSET);
    for (const span of t.all) expect(JSON.stringify(span.attributes)).not.toContain('Paris');
  });

  it('counts thought parts as reasoning output and gives each function call a span', async () => {
    const toolCalls = WHOLE_TOOL_CALLS;
    const chunks = await drain(await h.gemini.models.generateContentStream(request({ thinkingChunks: 2, chunks: 3, chunkIntervalMs: 10, toolCalls })));
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    const calls = chunks.flatMap((c) => c.functionCalls ?? []);
    expectToolSpans(t, { ids: calls.map((c) => c.id) });
    // Gemini sends a function call whole: its block starts and ends with that chunk.
    for (const tool of t.tools) expect(durationMs(tool)).toBe(0);
    const argTokens = toolCalls.reduce((sum, c) => sum + Math.ceil(c.arguments.length / 4), 0);
    const usage = chunks.at(-1)!.usageMetadata!;
    expect(usage.thoughtsTokenCount).toBe(2);
    expect(t.call.attributes).toMatchObject({
      'llm.stream.chunks': 2 + 3 + 2,
      // candidatesTokenCount excludes thoughts; the GenAI output total includes them.
      'gen_ai.usage.output_tokens': 2 + 3 + argTokens,
      'gen_ai.usage.reasoning.output_tokens': 2,
      'gen_ai.response.finish_reasons': ['STOP'],
      'llm.outcome': 'success',
    });
    expect(usage.candidatesTokenCount).toBe(3 + argTokens);
  });

  it('reports finish reasons as sent, through llm.outcome', async () => {
    for (const finishReason of ['length', 'content_filter', 'stop'] as const) await drain(await h.gemini.models.generateContentStream(request({ finishReason })));
    const calls = await finishedCalls(h.exporter, 3);
    expect(calls.map((c) => [c.attributes['gen_ai.response.finish_reasons'], c.attributes['llm.outcome']])).toEqual([
      [['MAX_TOKENS'], 'truncated'],
      [['SAFETY'], 'filtered'],
      [['STOP'], 'success'],
    ]);
  });

  it('records an error in the stream as an ERROR after output, the SDK error unchanged', async () => {
    const run = async (client: GoogleGenAI) => {
      const stream = await client.models.generateContentStream(request({ chunks: 10, chunkIntervalMs: 10, failAfterChunks: 4 }));
      const { received, error } = await readUntilError(stream, (c) => c.text);
      return { received, name: (error as Error).constructor.name, status: (error as { status?: number }).status, message: (error as Error).message };
    };
    const instrumented = await run(h.gemini);
    expect(instrumented).toEqual(await run(h.plainGemini));
    expect(instrumented).toMatchObject({ received: 4, name: 'ApiError', status: 503 });
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'UNAVAILABLE', 'llm.stream.chunks': 4 });
    expect(call!.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  it('records a dropped connection as an ERROR', async () => {
    const stream = await h.gemini.models.generateContentStream(request({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }));
    const { received, error } = await readUntilError(stream, (c) => c.text);
    await expectDroppedCall(h.exporter, error, 'UND_ERR_SOCKET', Math.max(1, received));
  });

  it('a break does not cancel a Gemini request: the call runs to the end of the stream on the wire', TIMING, async () => {
    const started = now();
    const stream = await h.gemini.models.generateContentStream(request({ chunks: 20, chunkIntervalMs: 30 }));
    await breakAfter(stream, 3, (c) => c.text);
    const [call] = await finishedCalls(h.exporter);
    // The SDK leaves the body flowing, so the provider's whole answer arrives (and is billed).
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'success', 'llm.stream.chunks': 20 });
    expectNear(endMs(call!) - started, 19 * 30, 'end of the stream');
  });

  it('ends the call as aborted when the application aborts', TIMING, async () => {
    const controller = new AbortController();
    const req = request({ chunks: 30, chunkIntervalMs: 40 });
    const stream = await h.gemini.models.generateContentStream({ ...req, config: { ...req.config, abortSignal: controller.signal } });
    let n = 0;
    const error = await (async () => {
      for await (const c of stream) if (c.text && ++n === 3) controller.abort();
    })().catch((e: unknown) => e);
    const abortedAt = now();
    expect(error).toBeInstanceOf(Error);
    await expectAbortedAt(h.exporter, { at: abortedAt, label: 'end at abort', chunks: 3, check: expectNear });
  });

  it('records the client’s own timeout (httpOptions.timeout, an abort of its own controller) as an error of type timeout, not an abort of the application', TIMING, async () => {
    const { GoogleGenAI } = createRequire(import.meta.url)('@google/genai') as typeof import('@google/genai');
    const impatient = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: h.sim.geminiBaseURL, timeout: 200 } });
    const signal = new AbortController().signal; // the application's, never aborted
    const req = request({ queueMs: 600, chunks: 2 });
    const error = await impatient.models.generateContentStream({ ...req, config: { ...req.config, abortSignal: signal } }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    const [call] = await finishedCalls(h.exporter);
    // Before: `aborted`, which the completion SLO counts as no event when under its threshold.
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'timeout' });
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expectNear(durationMs(call!), 200, 'until the timeout');
  });

  it('makes the retries asked for with httpOptions.retryOptions visible in llm.queue', async () => {
    const { GoogleGenAI } = createRequire(import.meta.url)('@google/genai') as typeof import('@google/genai');
    const retrying = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: h.sim.geminiBaseURL, retryOptions: { attempts: 3, initialDelay: 0.05, maxDelay: 0.1 } } });
    await drain(await retrying.models.generateContentStream(request({ httpErrors: { status: 503, count: 2 }, chunks: 2 }, PROMPT, `${model}-retry`)));
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 3, 'llm.retries': 2, 'llm.outcome': 'success', 'llm.stream.chunks': 2 });
    expect(t.queue!.events.map((e) => e.attributes?.['http.response.status_code'])).toEqual([503, 503, 200]);
  });
});

describe('models.generateContent', () => {
  it('records the call span, llm.queue to the headers and the usage, under v1 and v1beta', TIMING, async () => {
    const { GoogleGenAI } = createRequire(import.meta.url)('@google/genai') as typeof import('@google/genai');
    const beta = new GoogleGenAI({ apiKey: 'test-key', apiVersion: 'v1beta', httpOptions: { baseUrl: h.sim.geminiBaseURL } });
    const responses = [];
    for (const client of [h.gemini, beta]) responses.push(await client.models.generateContent(request({ queueMs: 100, prefillMs: 200, chunks: 5, chunkIntervalMs: 20, thinkingChunks: 2 })));
    expect(h.sim.requests.slice(-2).map((r) => r.path.split('/')[1])).toEqual(['v1', 'v1beta']);
    const calls = await finishedCalls(h.exporter, 2);
    for (const [i, call] of calls.entries()) {
      // Answered in one piece once generated: 100 + 200 + 6 × 20 ms.
      const t = expectUnstreamedCall(h.exporter, call, `generate_content ${model}`, 420, expectNear);
      expectNear(durationMs(t.call), 420, 'call');
      expect(t.call.attributes).toMatchObject({
        'gen_ai.response.id': responses[i]!.responseId,
        'gen_ai.response.finish_reasons': ['STOP'],
        'gen_ai.usage.input_tokens': PROMPT_TOKENS,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.reasoning.output_tokens': 2,
      });
      for (const key of ['llm.ttft_ms', 'llm.decode_ms', 'llm.stream.chunks']) expect(t.call.attributes[key], key).toBeUndefined();
    }
  });

  it('records a 503 answer as an ERROR, the SDK error and result unchanged', async () => {
    const [a, b] = await Promise.all([h.gemini, h.plainGemini].map((c) => c.models.generateContent(request({ httpErrors: { status: 503, count: 1 } }, PROMPT, `${model}-${c === h.gemini ? 'a' : 'b'}`)).catch((e: unknown) => e)));
    expect((a as Error).constructor.name).toBe((b as Error).constructor.name);
    expect((a as { status: number }).status).toBe(503);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes).toMatchObject({ 'error.type': '503', 'llm.outcome': 'error', 'llm.attempts': 1 });
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);

    const ok = await Promise.all([h.gemini, h.plainGemini].map((c) => c.models.generateContent(request({ chunks: 3 }))));
    expect(ok[0]!.text).toBe(ok[1]!.text);
    expect(ok[0]!.usageMetadata).toEqual(ok[1]!.usageMetadata);
  });
});

describe('prompt cache', () => {
  it('one tools object reused, which the SDK rewrites in place on its first call: the next turn after an eviction reads evicted, not prefix_changed at tools', async () => {
    // Declared once, as JSON Schema with lowercase types (the SDK upper-cases them in the app's own object).
    const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] }];
    const system = `You are the weather desk. ${'Answer with the forecast only. '.repeat(200)}`;
    const turn = (...contents: string[]) => h.gemini.models.generateContent({ model, contents: contents.map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'model', parts: [{ text }] })), config: { systemInstruction: system, tools: tools as never } }); // JSON Schema as JavaScript apps write it
    await withLlmContext({ conversationId: 'gemini-tools-reused' }, async () => {
      await turn('Paris?');
      expect(tools[0]!.functionDeclarations[0]!.parameters.type).toBe('OBJECT'); // the SDK's rewrite
      h.sim.cache.evictAll();
      await turn('Paris?', 'Sunny.', 'And Rome?');
    });
    const [first, second] = (await finishedCalls(h.exporter, 2)).map((c) => c.attributes);
    expect(first).toMatchObject({ 'llm.cache.state': 'miss', 'llm.cache.miss_reason': 'cold' });
    // Read nothing within the TTL of a prefix it left cached: evicted (the tools never changed).
    expect(second).toMatchObject({ 'llm.cache.state': 'miss', 'llm.cache.miss_reason': 'evicted' });
  });
});
