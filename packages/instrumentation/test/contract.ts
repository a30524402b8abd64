/**
 * Shared pieces of the span-contract tests: the provider tests against the simulator
 * (openai-chat, openai-responses, anthropic-messages, gemini-generate) and the SDK-major matrix
 * (sdk-majors-*). One harness per test file, the prompts and request fixtures, a consumer that
 * reads late, and the assertions on a call's span tree that hold for every SDK and release.
 * Where a check is about timing, the tolerance is the caller's: `expectFaithful` (±10 % / ±30 ms,
 * the SDK-major contract, the default) or `expectNear` (harness.ts, the provider tests).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace';
import { scenarioHeaders, type RequestLogEntry, type Scenario, type SimulatorOptions } from '@llm-prism/simulator';
import type OpenAIType from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { LlmPrismInstrumentationConfig } from '../src/types.ts';
import { createHarness, durationMs, endMs, expectAdjoiningPhases, expectStreamedTree, finishedCalls, sleep, startMs, treeOf, type CallTree, type Harness } from './harness.ts';
import { expectFaithful, recordFidelity, type InjectedTimings, type SdkMajor } from './sdk-majors-harness.ts';

/** A timing check: `actual` against `expected` within the check's tolerance. */
export type TimingCheck = (actual: number, expected: number, label: string) => void;

/**
 * The harness of one test file: created before its tests (before any `describe`'s own `beforeAll`
 * when called at the top of the file), closed after them, its spans cleared before each test.
 */
export function useHarness(config?: LlmPrismInstrumentationConfig, simulatorOptions?: SimulatorOptions): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await createHarness(config, simulatorOptions));
  });
  afterAll(() => h.close());
  beforeEach(() => h.exporter.reset());
  return h;
}

/**
 * useHarness with calls recognised on the wire (`wireCalls: true`) and an AsyncLocalStorage context
 * manager, so a call span's parent is the context active where the client made its request.
 */
export function useWireHarness(config?: LlmPrismInstrumentationConfig): Harness {
  beforeAll(() => void context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
  afterAll(() => void context.disable());
  return useHarness({ wireCalls: true, ...config });
}

/** The CLIENT (call) spans once `count` ended, and no more a moment later, by start time. */
export async function clientSpans(exporter: InMemorySpanExporter, count: number): Promise<ReadableSpan[]> {
  await finishedCalls(exporter, count);
  await sleep(100);
  const all = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
  expect(all.map((s) => s.name)).toHaveLength(count);
  return all.sort((a, b) => startMs(a) - startMs(b));
}

/**
 * A raw `node:http` server of the test file (the truth is in its handler), listening on loopback
 * before the file's tests and closed after them; `base` is its URL once listening.
 */
export function useRawServer(handler: RequestListener): { readonly base: string } {
  let server: Server;
  const raw = { base: '' };
  beforeAll(async () => {
    server = createServer({ noDelay: true }, handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    raw.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))));
  return raw;
}

/** A client of the harness's patched `openai` (its CommonJS copy) at another base URL. */
export function patchedOpenAI(h: Harness, baseURL: string, maxRetries: number): OpenAIType {
  const OpenAI = h.client.constructor as typeof OpenAIType;
  return new OpenAI({ baseURL, apiKey: 'test-key', maxRetries });
}

/** Now, on the spans' time base (epoch milliseconds). */
export const now = (): number => performance.timeOrigin + performance.now();

/** The user prompt of every test call. */
export const PROMPT = 'What is the weather in Paris?';
/** Simulator token counting: 4 tokens per message + ceil(29 chars / 4). */
export const PROMPT_TOKENS = 4 + Math.ceil(PROMPT.length / 4);

/** `openai` chat messages: the prompt as one user message. */
export const chatMessages = (content = PROMPT) => [{ role: 'user' as const, content }];

export const ANTHROPIC_MODEL = 'claude-sonnet-5-5';
/** `@anthropic-ai/sdk` `messages.create` parameters (not streamed). */
export const anthropicParams = (content = PROMPT) => ({ model: ANTHROPIC_MODEL, max_tokens: 1024, messages: [{ role: 'user' as const, content }] });

export const GEMINI_MODEL = 'gemini-2.5-flash';
/** `@google/genai` request parameters selecting a simulator scenario (Gemini takes headers in `config.httpOptions`). */
export const geminiRequest = (s: Scenario, contents = PROMPT, model = GEMINI_MODEL) => ({ model, contents, config: { httpOptions: { headers: scenarioHeaders(s) } } });

/** The injected phases of the provider tests' streamed call: 200 ms queue, 300 ms prefill, 20 chunks 20 ms apart. */
export const STREAM_TIMINGS: InjectedTimings = { queueMs: 200, prefillMs: 300, chunks: 20, chunkIntervalMs: 20 };
/** The injected phases of the SDK-major contract's streamed call: 150 ms queue, 200 ms prefill, 12 chunks 20 ms apart. */
export const MAJOR_STREAM_TIMINGS: InjectedTimings = { queueMs: 150, prefillMs: 200, chunks: 12, chunkIntervalMs: 20 };

/** The two tool calls the simulator streams, each one's arguments in `weather` and `time` fragments. */
export const weatherAndTime = (weather: number, time: number) => [
  { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', fragments: weather },
  { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}', fragments: time },
];

/** get_weather and get_time without argument fragments: Gemini sends each function call whole, in one chunk. */
export const WHOLE_TOOL_CALLS = [
  { name: 'get_weather', arguments: '{"city":"Paris"}' },
  { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
];

/** The connection dropped mid-stream, as each transport names it. */
export const DROPPED: Record<SdkMajor['transport'], string> = { undici: 'UND_ERR_SOCKET', 'node:http': 'ECONNRESET' };

/** Every item of a stream, in order. */
export async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** Iterates `stream` to its `n`th output item, then breaks out of the loop; resolves with when it broke. */
export async function breakAfter<T>(stream: AsyncIterable<T>, n: number, isOutput: (item: T) => unknown): Promise<number> {
  let seen = 0;
  for await (const item of stream) if (isOutput(item) && ++seen === n) break;
  return now();
}

/**
 * Iterates `stream` until it ends or fails: how many output items the application got, and what
 * it failed with (undefined: it ended quietly).
 */
export async function readUntilError<T>(stream: AsyncIterable<T>, isOutput: (item: T) => unknown): Promise<{ received: number; error: unknown }> {
  let received = 0;
  try {
    for await (const item of stream) if (isOutput(item)) received++;
  } catch (error) {
    return { received, error };
  }
  return { received, error: undefined };
}

/**
 * A consumer that reads late: opens the stream, lets the whole answer arrive unread for `lateMs`,
 * then pulls every item. `started` is taken before the request, `pullStart` before the first pull.
 */
export async function readLate<T>(open: () => Promise<AsyncIterable<T>>, lateMs = 800): Promise<{ started: number; pullStart: number; items: T[] }> {
  const started = now();
  const stream = await open();
  await sleep(lateMs); // the whole answer arrives meanwhile, unread
  const pullStart = now();
  return { started, pullStart, items: await drain(stream) };
}

/**
 * The SDK-major contract for a streamed call read late (`readLate`): the span tree of
 * `expectStreamedTree`, and queue, TTFT and decode within ±10 % / ±30 ms of the injected timings
 * (recorded for the README's fidelity figures under `sdk` and `what`).
 */
export async function expectFaithfulStream(
  exporter: InMemorySpanExporter,
  name: string,
  s: InjectedTimings,
  read: { started: number; pullStart: number },
  fidelity: { sdk: string; what: string },
): Promise<CallTree> {
  const [call] = await finishedCalls(exporter);
  recordFidelity(fidelity.sdk, fidelity.what, s, treeOf(exporter, call!));
  const t = expectStreamedTree(exporter, call!, { name, started: read.started, pullStart: read.pullStart, ...s });
  expectFaithful(durationMs(t.queue!), s.queueMs, 'queue');
  expectFaithful(durationMs(t.ttft!), s.queueMs + s.prefillMs, 'ttft');
  expectFaithful(durationMs(t.decode!), (s.chunks - 1) * s.chunkIntervalMs, 'decode');
  return t;
}

/**
 * What a streamed `gpt-4o` chat call's span says of the request and the answer, as the application
 * received it (`chunks`, the last with usage) from the simulator at `baseURL`.
 */
export function chatStreamAttributes(chunks: ChatCompletionChunk[], baseURL: string): Record<string, unknown> {
  return {
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.request.stream': true,
    'gen_ai.response.id': chunks[0]!.id,
    'gen_ai.response.model': chunks[0]!.model,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': chunks.at(-1)!.usage!.prompt_tokens,
    'server.address': '127.0.0.1',
    'server.port': Number(new URL(baseURL).port),
  };
}

/**
 * A call answered in one piece, successfully: not streamed, its span, llm.client_setup and
 * llm.queue only, llm.queue lasting from the request on the wire to the headers, i.e. the whole generation (`queueMs`).
 */
export function expectUnstreamedCall(exporter: InMemorySpanExporter, call: ReadableSpan, name: string, queueMs: number, check: TimingCheck = expectFaithful): CallTree {
  const t = treeOf(exporter, call);
  expect(t.all.map((s) => s.name).sort()).toEqual([name, 'llm.client_setup', 'llm.queue']);
  expectAdjoiningPhases(t);
  check(durationMs(t.queue!), queueMs, 'queue');
  expect(t.call.attributes).toMatchObject({ 'gen_ai.request.stream': false, 'llm.outcome': 'success' });
  return t;
}

/**
 * The streamed get_weather and get_time calls: one llm.tool_call span each, in order, inside
 * llm.decode; with `ids`, carrying the tool call ids the application got; with `blocksMs`, each
 * lasting that long (header to last argument fragment).
 */
export function expectToolSpans(t: CallTree, o: { ids?: unknown[]; blocksMs?: [number, number]; check?: TimingCheck } = {}): void {
  expect(t.tools.map((s) => s.name)).toEqual(['llm.tool_call get_weather', 'llm.tool_call get_time']);
  if (o.ids) expect(t.tools.map((s) => s.attributes['gen_ai.tool.call.id'])).toEqual(o.ids);
  if (o.blocksMs) {
    const check = o.check ?? expectFaithful;
    check(durationMs(t.tools[0]!), o.blocksMs[0], 'get_weather block');
    check(durationMs(t.tools[1]!), o.blocksMs[1], 'get_time block');
  }
  for (const tool of t.tools) {
    expect(startMs(tool)).toBeGreaterThanOrEqual(startMs(t.decode!));
    expect(endMs(tool)).toBeLessThanOrEqual(endMs(t.decode!));
  }
}

/**
 * A call the application left early (a break, an abort) at `at`: outcome aborted, status not an
 * error, ended then, with the `chunks` that had arrived by then.
 */
export async function expectAbortedAt(exporter: InMemorySpanExporter, o: { at: number; label: string; chunks: number; check?: TimingCheck }): Promise<void> {
  const [call] = await finishedCalls(exporter);
  expect(call!.attributes['llm.outcome']).toBe('aborted');
  expect(call!.status.code).toBe(SpanStatusCode.UNSET);
  (o.check ?? expectFaithful)(endMs(call!) - o.at, 0, o.label);
  expect(call!.attributes['llm.stream.chunks']).toBe(o.chunks);
}

/**
 * A connection dropped after 3 chunks: the SDK fails with an Error, the call is an ERROR with the
 * transport's `errorType`, and counts no more than the 3 chunks sent (at least `minChunks`:
 * destroying the socket may discard the simulator's unflushed writes).
 */
export async function expectDroppedCall(exporter: InMemorySpanExporter, error: unknown, errorType: string, minChunks?: number): Promise<void> {
  expect(error).toBeInstanceOf(Error);
  const [call] = await finishedCalls(exporter);
  expect(call!.status.code).toBe(SpanStatusCode.ERROR);
  expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': errorType });
  const chunks = call!.attributes['llm.stream.chunks'] as number;
  if (minChunks !== undefined) expect(chunks).toBeGreaterThanOrEqual(minChunks);
  expect(chunks).toBeLessThanOrEqual(3);
}

/**
 * One failed attempt, then the answer (`requests`: the simulator's log): llm.client_setup and
 * llm.queue run from the call's start (`started`: before the request) to the answering attempt's
 * headers, the backoff inside llm.queue, and the injected `prefillMs` follows them.
 */
export function expectRetriedInQueue(t: CallTree, requests: RequestLogEntry[], started: number, prefillMs: number): void {
  const [first, second] = requests.slice(-2);
  expect([first!.attempt, second!.attempt]).toEqual([0, 1]);
  expectAdjoiningPhases(t);
  expect(endMs(t.setup!)).toBeLessThanOrEqual(first!.receivedAt + 5); // the first request was on the wire before the server had it
  expectFaithful(endMs(t.queue!) - second!.receivedAt, 0, 'queue end vs answering attempt');
  expect(durationMs(t.setup!) + durationMs(t.queue!)).toBeGreaterThanOrEqual(second!.receivedAt - started - 5);
  expectFaithful(endMs(t.ttft!) - endMs(t.queue!), prefillMs, 'prefill after the retry');
}

/** The SDK's error with the instrumentation is the one it throws without: same class, same message. */
export function expectSameError(instrumented: unknown, reference: unknown): void {
  expect((instrumented as Error).constructor.name).toBe((reference as Error).constructor.name);
  expect((instrumented as Error).message).toBe((reference as Error).message);
}
