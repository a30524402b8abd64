/**
 * The Vercel AI SDK (`ai` 5, 6 and 7 with `@ai-sdk/openai` / `@ai-sdk/anthropic` of the matching
 * major), real installs against the simulator: its requests are recognised on the wire, one call
 * span per model request (each step of a tool loop is one), the application reading late. `ai` 6
 * and 7 run their retry loop (`maxRetries`) through `@ai-sdk/provider-utils`'
 * `retryWithExponentialBackoff`, which runs in a call group (call-group.ts): a 429 and its retry
 * are two attempts of one call, inside `llm.queue`. `ai` 5 bundles its own loop (not patchable):
 * there each retry is a call of its own (documented in docs/conventions.md).
 *
 * `ai` 7 ships ESM only: import-in-the-middle's hooks (as `register.ts` installs them) wrap
 * `@ai-sdk/provider-utils`, so the ESM bundle's named import is the wrapped one.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { scenarioHeaders, type Scenario } from '@llm-prism/simulator';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientSpans, MAJOR_STREAM_TIMINGS, now, useWireHarness, weatherAndTime } from '../test/contract.ts';
import { TIMING, durationMs, endMs, expectAdjoiningPhases, sleep, startMs, treeOf } from '../test/harness.ts';
import { expectFaithful, recordFidelity, uniquePrompt } from '../test/sdk-majors-harness.ts';
import { AI_MAJORS, loadAi, type Any, type LoadedAi } from '../test/ai-sdk-harness.ts';

const h = useWireHarness();

const S = MAJOR_STREAM_TIMINGS;
const LATE_READ_MS = 800;

const calls = (count: number): Promise<ReadableSpan[]> => clientSpans(h.exporter, count);

/** Streamed: call ⊃ llm.ttft ⊃ llm.queue and llm.decode within ±10 % / ±30 ms, ended before the application read. */
function expectFaithfulCall(call: ReadableSpan, name: string, started: number, pullStart: number, label: string, what: string): void {
  const t = treeOf(h.exporter, call);
  expect(t.call.name).toBe(name);
  const own = t.all.filter((s) => s === t.call || s.parentSpanContext?.spanId === t.call.spanContext().spanId || s.parentSpanContext?.spanId === t.ttft?.spanContext().spanId);
  expect(own.map((s) => s.name).sort()).toEqual([name, 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft']);
  expectFaithful(startMs(t.call) - started, 0, 'call start');
  expectFaithful(durationMs(t.queue!), S.queueMs, 'queue');
  expectFaithful(durationMs(t.ttft!), S.queueMs + S.prefillMs, 'ttft');
  expectFaithful(durationMs(t.decode!), (S.chunks - 1) * S.chunkIntervalMs, 'decode');
  expect(endMs(t.call)).toBeLessThan(pullStart);
  recordFidelity(label, what, S, t);
}

const TOOL_SCHEMA = { type: 'object', properties: { city: { type: 'string' }, timezone: { type: 'string' } } };

describe.each(AI_MAJORS)('$label', (major) => {
  let sdk: LoadedAi;
  let openai: Any;
  let anthropic: Any;
  const headers = (s: Scenario) => scenarioHeaders(s);

  beforeAll(async () => {
    sdk = await loadAi(major);
    openai = sdk.openai.createOpenAI({ baseURL: h.sim.openaiBaseURL, apiKey: 'test-key' });
    anthropic = sdk.anthropic.createAnthropic({ baseURL: `${h.sim.url}/v1`, apiKey: 'test-key' });
    // A first request pays for lazy loading: not a contract matter.
    await sdk.ai.generateText({ model: openai.chat('gpt-4o'), prompt: uniquePrompt('warm up'), headers: headers({ chunks: 1 }) });
  });

  /** streamText with a consumer that reads late: the call and its phases at arrival. */
  async function streamLate(model: Any, s: Scenario): Promise<{ started: number; pullStart: number; text: string }> {
    const started = now();
    const result = sdk.ai.streamText({ model, prompt: uniquePrompt('What is the weather in Paris?'), headers: headers(s) });
    await sleep(LATE_READ_MS);
    const pullStart = now();
    let text = '';
    for await (const delta of result.textStream) text += delta;
    return { started, pullStart, text };
  }

  it('streamText, OpenAI Chat Completions: one call, phases at arrival, the application reading late', TIMING, async () => {
    const { started, pullStart, text } = await streamLate(openai.chat('gpt-4o'), { ...S, tokensPerChunk: 2 });
    expect(text.length).toBeGreaterThan(0);
    const [call] = await calls(1);
    expectFaithfulCall(call!, 'chat gpt-4o', started, pullStart, major.label, 'streamText openai.chat');
    expect(call!.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.stream': true, 'llm.attempts': 1, 'llm.outcome': 'success', 'llm.stream.chunks': S.chunks });
  });

  it('streamText, OpenAI Responses (the provider default): one call, phases at arrival', TIMING, async () => {
    const { started, pullStart } = await streamLate(openai('gpt-5'), { ...S, tokensPerChunk: 2 });
    const [call] = await calls(1);
    expectFaithfulCall(call!, 'chat gpt-5', started, pullStart, major.label, 'streamText openai.responses');
    expect(call!.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'llm.outcome': 'success' });
  });

  it('streamText, Anthropic Messages: one call, phases at arrival, provider anthropic', TIMING, async () => {
    const { started, pullStart } = await streamLate(anthropic('claude-sonnet-5-5'), { ...S, tokensPerChunk: 2 });
    const [call] = await calls(1);
    expectFaithfulCall(call!, 'chat claude-sonnet-5-5', started, pullStart, major.label, 'streamText anthropic');
    expect(call!.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'llm.attempts': 1, 'llm.outcome': 'success' });
  });

  it('generateText and generateObject: one unstreamed call each', TIMING, async () => {
    await sdk.ai.generateText({ model: openai.chat('gpt-4o-mini'), prompt: uniquePrompt('Hello'), headers: headers({ queueMs: 50, prefillMs: 50, chunks: 3, chunkIntervalMs: 10 }) });
    const [call] = await calls(1);
    expect(call!.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.request.stream': false, 'llm.attempts': 1, 'llm.outcome': 'success' });
    expectFaithful(durationMs(treeOf(h.exporter, call!).queue!), 120, 'queue');
    h.exporter.reset();
    // The simulator answers with text, not the object: the request is what matters here.
    await sdk.ai.generateObject({ model: openai.chat('gpt-4o-mini'), prompt: uniquePrompt('An object'), schema: sdk.ai.jsonSchema({ type: 'object' }), headers: headers({ chunks: 2 }) }).catch(() => undefined);
    const [objectCall] = await calls(1);
    expect(objectCall!.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o-mini', 'llm.attempts': 1 });
  });

  it('streamObject: one streamed call', TIMING, async () => {
    const result = sdk.ai.streamObject({ model: openai.chat('gpt-4o'), prompt: uniquePrompt('An object'), schema: sdk.ai.jsonSchema({ type: 'object' }), headers: headers({ chunks: 3 }) });
    for await (const _ of result.textStream) void _;
    const [call] = await calls(1);
    expect(call!.attributes).toMatchObject({ 'gen_ai.request.stream': true, 'llm.attempts': 1, 'llm.outcome': 'success' });
  });

  it('a tool loop of two steps: two calls, each with its own phases', TIMING, async () => {
    const tools = {
      get_weather: sdk.ai.tool({ description: 'weather', inputSchema: sdk.ai.jsonSchema(TOOL_SCHEMA), execute: async () => 'sunny' }),
      get_time: sdk.ai.tool({ description: 'time', inputSchema: sdk.ai.jsonSchema(TOOL_SCHEMA), execute: async () => 'noon' }),
    };
    const stopWhen = (sdk.ai.stepCountIs ?? sdk.ai.isStepCount)(2);
    const result = sdk.ai.streamText({ model: openai.chat('gpt-4o'), prompt: uniquePrompt('Weather and time?'), tools, stopWhen, headers: headers({ chunks: 2, chunkIntervalMs: 20, toolCalls: weatherAndTime(3, 2) }) });
    for await (const _ of result.fullStream) void _;
    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    const [first, second] = await calls(2);
    for (const call of [first!, second!]) {
      const t = treeOf(h.exporter, call);
      expect(t.tools.map((s) => s.name)).toEqual(['llm.tool_call get_weather', 'llm.tool_call get_time']);
      expect(call.attributes).toMatchObject({ 'llm.attempts': 1, 'gen_ai.response.finish_reasons': ['tool_calls'] });
    }
    expect(startMs(second!)).toBeGreaterThanOrEqual(endMs(first!));
  });

  if (major.groupedRetries) {
    it('a 429 then success: one call, two attempts, the retry inside llm.queue', TIMING, async () => {
      const started = now();
      const result = sdk.ai.streamText({
        model: openai.chat('gpt-4o'),
        prompt: uniquePrompt('Retry me'),
        headers: headers({ httpErrors: { status: 429, count: 1, retryAfterS: 0.2 }, prefillMs: 100, chunks: 3, chunkIntervalMs: 10 }),
      });
      for await (const _ of result.textStream) void _;
      const [call] = await calls(1);
      const t = treeOf(h.exporter, call!);
      const [first, second] = h.sim.requests.slice(-2);
      expect([first!.attempt, second!.attempt]).toEqual([0, 1]);
      expectAdjoiningPhases(t);
      expectFaithful(startMs(t.call) - started, 0, 'call start');
      expectFaithful(endMs(t.queue!) - second!.receivedAt, 0, 'queue end vs answering attempt');
      expect(durationMs(t.queue!)).toBeGreaterThanOrEqual(200);
      expectFaithful(endMs(t.ttft!) - endMs(t.queue!), 100, 'prefill after the retry');
      expect(t.call.attributes).toMatchObject({ 'llm.attempts': 2, 'llm.retries': 1, 'llm.rate_limited_attempts': 1, 'llm.outcome': 'success' });
      expect(t.queue!.events.map((e) => e.attributes)).toEqual([
        { 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.2, 'error.type': '429' },
        { 'llm.attempt': 2, 'http.response.status_code': 200 },
      ]);
    });

    it('retries run out: one call, ERROR with the last status, every attempt in it', TIMING, async () => {
      const error = await sdk.ai
        .generateText({ model: openai.chat('gpt-4o'), prompt: uniquePrompt('Never'), maxRetries: 1, headers: headers({ httpErrors: { status: 429, count: 10, retryAfterS: 0.05 } }) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      const [call] = await calls(1);
      expect(call!.status.code).toBe(SpanStatusCode.ERROR);
      expect(call!.attributes).toMatchObject({ 'error.type': '429', 'llm.outcome': 'error', 'llm.attempts': 2, 'llm.rate_limited_attempts': 2 });
    });

    it('the application aborts during the backoff after a 500: one call, aborted at the abort (not ERROR 500)', TIMING, async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const error = await sdk.ai
        .generateText({ model: openai.chat('gpt-4o'), prompt: uniquePrompt('Abort my retry'), abortSignal: controller.signal, headers: headers({ httpErrors: { status: 500, count: 1 } }) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      const [call] = await calls(1);
      expect(call!.status.code).toBe(SpanStatusCode.UNSET);
      expect(call!.attributes).toMatchObject({ 'llm.outcome': 'aborted', 'llm.attempts': 1 });
      expect(call!.attributes['error.type']).toBeUndefined();
      expectFaithful(durationMs(call!), 300, 'call until the abort');
    });
  } else {
    it('a 429 then success: ai 5 bundles its retry loop, so each attempt is a call of its own', TIMING, async () => {
      const result = sdk.ai.streamText({ model: openai.chat('gpt-4o'), prompt: uniquePrompt('Retry me'), headers: headers({ httpErrors: { status: 429, count: 1, retryAfterS: 0.2 }, chunks: 3 }) });
      for await (const _ of result.textStream) void _;
      const [failed, answered] = await calls(2);
      expect(failed!.attributes).toMatchObject({ 'error.type': '429', 'llm.attempts': 1, 'llm.outcome': 'error' });
      expect(answered!.attributes).toMatchObject({ 'llm.attempts': 1, 'llm.outcome': 'success' });
    });
  }
});
