/** The span contract on every supported `@google/genai` major, each a real install (sdk-majors-harness.ts). */
import { SpanStatusCode } from '@opentelemetry/api';
import type { GoogleGenAI } from '@google/genai';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scenario } from '@llm-prism/simulator';
import { DROPPED, GEMINI_MODEL as model, MAJOR_STREAM_TIMINGS, PROMPT, WHOLE_TOOL_CALLS, drain, expectDroppedCall, expectFaithfulStream, expectToolSpans, expectUnstreamedCall, geminiRequest, readLate, readUntilError, useHarness } from '../test/contract.ts';
import { expectFaithful, loadSdk, uniquePrompt, type SdkMajor } from '../test/sdk-majors-harness.ts';
import { TIMING, durationMs, endMs, finishedCalls, sleep, startMs, treeOf } from '../test/harness.ts';
import { anchoredEpoch } from './stats.ts';

interface GeminiMajor extends SdkMajor {
  /** `httpOptions.retryOptions` exists (the SDK retries nothing without it). */
  retries: boolean;
  /** Automatic function calling with any callable tool (1.x: MCP tools only). */
  callableAfc: boolean;
}

const MAJORS: GeminiMajor[] = [
  { label: 'genai 1.1', module: '@google/genai', fixture: 'genai-1', version: /^1\.1\./, transport: 'undici', retries: false, callableAfc: false },
  { label: 'genai 2', module: '@google/genai', fixture: 'genai-2', version: /^2\./, transport: 'undici', retries: true, callableAfc: true },
  { label: 'genai 3', module: '@google/genai', version: /^3\./, transport: 'undici', retries: true, callableAfc: true },
];

const h = useHarness();
const request = (s: Scenario) => geminiRequest(s, uniquePrompt(PROMPT));

describe.each(MAJORS)('$label', (major) => {
  let sdk: typeof import('@google/genai');
  let client: GoogleGenAI;
  let plain: GoogleGenAI;
  beforeAll(async () => {
    const loaded = await loadSdk<typeof import('@google/genai')>(major);
    sdk = loaded.patched;
    const options = { apiKey: 'test-key', httpOptions: { baseUrl: h.sim.geminiBaseURL } };
    client = new loaded.patched.GoogleGenAI(options);
    plain = new loaded.plain.GoogleGenAI(options);
    // A first request pays for lazy loading (the SDK's modules, Node's fetch): not a contract matter.
    await client.models.generateContent(request({ chunks: 1 }));
    await plain.models.generateContent(request({ chunks: 1 }));
  });

  it('generateContentStream: queue, TTFT and decode at arrival, with a consumer that reads late', TIMING, async () => {
    const s = MAJOR_STREAM_TIMINGS;
    const read = await readLate(() => client.models.generateContentStream(request({ ...s, tokensPerChunk: 2 })));
    const t = await expectFaithfulStream(h.exporter, `generate_content ${model}`, s, read, { sdk: major.label, what: 'generateContentStream' });
    const last = read.items.at(-1)!;
    expect(t.call.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': model,
      'gen_ai.request.stream': true,
      'gen_ai.response.id': last.responseId ?? expect.any(String),
      'gen_ai.response.model': last.modelVersion,
      'gen_ai.response.finish_reasons': ['STOP'],
      'gen_ai.usage.input_tokens': last.usageMetadata!.promptTokenCount,
      'gen_ai.usage.output_tokens': 24,
      'server.address': '127.0.0.1',
      'llm.stream.chunks': 12,
      'llm.attempts': 1,
      'llm.outcome': 'success',
    });
  });

  it('generateContent: llm.queue to the headers and the usage', TIMING, async () => {
    const response = await client.models.generateContent(request({ queueMs: 100, prefillMs: 100, chunks: 5, chunkIntervalMs: 20 }));
    const [call] = await finishedCalls(h.exporter);
    // Answered in one piece once generated: 100 + 100 + 4 × 20 ms.
    const t = expectUnstreamedCall(h.exporter, call!, `generate_content ${model}`, 280);
    expect(t.call.attributes).toMatchObject({
      // 1.1 drops responseId from its objects; the span has it from the wire.
      'gen_ai.response.id': response.responseId ?? expect.any(String),
      'gen_ai.usage.output_tokens': response.usageMetadata!.candidatesTokenCount,
    });
  });

  for (const method of ['generateContent', 'generateContentStream'] as const) {
    it(`${method}: the call starts when the application calls, before the SDK's own work`, TIMING, async () => {
      // A callable tool (an MCP-style tool that fetches its declaration): with automatic function
      // calling off, the SDK awaits the declaration, then builds and sends the request.
      const declarationMs = 40;
      const tool = {
        tool: async () => {
          await sleep(declarationMs);
          return { functionDeclarations: [{ name: 'lookup', description: 'Looks a word up' }] };
        },
        callTool: async () => [],
      };
      const base = request({ queueMs: 50, chunks: 2 });
      const params = { ...base, config: { ...base.config, tools: [tool], automaticFunctionCalling: { disable: true } } };
      // The span's time on the instrumentation's clock (stats.ts), the server's on the monotonic one.
      const calledAtMs = performance.now();
      const calledAt = anchoredEpoch()(calledAtMs);
      const result = await client.models[method](params as never);
      if (method === 'generateContentStream') await drain(result as AsyncIterable<unknown>);
      const [call] = await finishedCalls(h.exporter);
      // The SDK's work was real: the request reached the server after the declaration.
      expect(h.sim.requests.at(-1)!.receivedAt - (performance.timeOrigin + calledAtMs)).toBeGreaterThanOrEqual(declarationMs);
      const late = startMs(call!) - calledAt;
      expect(late, `span start ${late.toFixed(2)} ms after the call`).toBeGreaterThanOrEqual(-0.5);
      expect(late, `span start ${late.toFixed(2)} ms after the call`).toBeLessThanOrEqual(5);
      expect(call!.attributes).toMatchObject({ 'llm.attempts': 1, 'llm.outcome': 'success' });
    });
  }

  if (major.callableAfc) {
    it('automatic function calling: the first request starts at the call, the next one when the SDK makes it', TIMING, async () => {
      // The SDK runs the model's function calls with the callable tool, then asks again (2 requests).
      const toolMs = 60;
      const tool = {
        tool: async () => ({ functionDeclarations: WHOLE_TOOL_CALLS.map(({ name }) => ({ name, description: `The ${name} tool` })) }),
        callTool: async () => {
          await sleep(toolMs);
          return [];
        },
      };
      const base = request({ chunks: 2, toolCalls: WHOLE_TOOL_CALLS });
      const params = { ...base, config: { ...base.config, tools: [tool], automaticFunctionCalling: { maximumRemoteCalls: 2 } } };
      const calledAt = anchoredEpoch()(performance.now());
      await client.models.generateContent(params as never);
      const calls = (await finishedCalls(h.exporter, 2)).sort((a, b) => startMs(a) - startMs(b));
      expect(calls).toHaveLength(2);
      const late = startMs(calls[0]!) - calledAt;
      expect(late, `first span start ${late.toFixed(2)} ms after the call`).toBeGreaterThanOrEqual(-0.5);
      expect(late, `first span start ${late.toFixed(2)} ms after the call`).toBeLessThanOrEqual(5);
      // The second request's call starts after the first answer and the tool's run, not at the application's call.
      expect(startMs(calls[1]!) - endMs(calls[0]!)).toBeGreaterThanOrEqual(toolMs - 1);
    });
  }

  it('function calls get llm.tool_call spans inside llm.decode', async () => {
    const toolCalls = WHOLE_TOOL_CALLS;
    const chunks = await drain(await client.models.generateContentStream(request({ chunks: 3, chunkIntervalMs: 10, toolCalls })));
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    expectToolSpans(t, { ids: chunks.flatMap((c) => c.functionCalls ?? []).map((c) => c.id) });
    expect(t.call.attributes).toMatchObject({ 'llm.stream.chunks': 3 + 2, 'gen_ai.response.finish_reasons': ['STOP'], 'llm.outcome': 'success' });
  });

  it('an error in the stream → ERROR after output, the SDK error unchanged', async () => {
    const run = async (c: GoogleGenAI) => {
      const stream = await c.models.generateContentStream(request({ chunks: 10, chunkIntervalMs: 10, failAfterChunks: 4 }));
      const { received, error } = await readUntilError(stream, (chunk) => chunk.text);
      return { received, name: (error as Error | undefined)?.constructor.name, message: (error as Error | undefined)?.message.replace(/#\d+/, '') };
    };
    const instrumented = await run(client);
    expect(instrumented).toEqual(await run(plain));
    // 1.x ends the iteration quietly at an error payload, later majors throw ApiError.
    expect(instrumented.received).toBe(4);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'UNAVAILABLE', 'llm.stream.chunks': 4 });
  });

  if (major.retries) {
    it('retries asked for with httpOptions.retryOptions are attempts inside llm.queue', TIMING, async () => {
      const retrying = new sdk.GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: h.sim.geminiBaseURL, retryOptions: { attempts: 2, initialDelay: 0.05, maxDelay: 0.1 } } });
      await drain(await retrying.models.generateContentStream(request({ httpErrors: { status: 503, count: 1 }, prefillMs: 100, chunks: 2 })));
      const [call] = await finishedCalls(h.exporter);
      const t = treeOf(h.exporter, call!);
      const answering = h.sim.requests.at(-1)!;
      expect(answering.attempt).toBe(1);
      expectFaithful(endMs(t.queue!) - answering.receivedAt, 0, 'queue end vs answering attempt');
      expectFaithful(durationMs(t.ttft!) - durationMs(t.queue!), 100, 'prefill after the retry');
      expect(t.call.attributes).toMatchObject({ 'llm.attempts': 2, 'llm.retries': 1, 'llm.outcome': 'success' });
      expect(t.queue!.events.map((e) => e.attributes?.['http.response.status_code'])).toEqual([503, 200]);
    });
  }

  it('a dropped connection → ERROR', async () => {
    const stream = await client.models.generateContentStream(request({ chunks: 10, chunkIntervalMs: 30, failAfterChunks: 3, failMode: 'drop' }));
    await expectDroppedCall(h.exporter, await drain(stream).catch((e: unknown) => e), DROPPED[major.transport]);
  });
});
