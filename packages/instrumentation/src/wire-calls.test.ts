/**
 * LLM calls recognised on the wire: requests made outside the patched SDKs (plain `fetch`, a
 * `node:http` client) to the simulator's routes become calls with the full span contract, at
 * arrival times, while the application reads late; anything else makes no span, and a patched SDK
 * call still makes exactly one.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { SCENARIO_HEADER, type Scenario } from '@llm-prism/simulator';
import { describe, expect, it } from 'vitest';
import { useWireHarness, now } from '../test/contract.ts';
import { TIMING, durationMs, endMs, expectAdjoiningPhases, finishedCalls, sleep, startMs, treeOf, type CallTree } from '../test/harness.ts';
import { expectFaithful, recordFidelity, type InjectedTimings } from '../test/sdk-majors-harness.ts';
import { withLlmContext } from './context.ts';
import type { LlmRequestHookInfo, LlmResponseHookInfo } from './types.ts';

const h = useWireHarness();

const T: InjectedTimings = { queueMs: 200, prefillMs: 300, chunks: 10, chunkIntervalMs: 30 };
/** How long the application waits before it reads the body: the whole answer has arrived by then. */
const LATE_READ_MS = 800;

let counter = 0;
const unique = (text: string): string => `${text} (#${++counter})`;

const headers = (scenario: Scenario, extra: Record<string, string> = {}): Record<string, string> => ({
  'content-type': 'application/json',
  [SCENARIO_HEADER]: JSON.stringify(scenario),
  ...extra,
});

/** A plain fetch POST whose body the application reads only after LATE_READ_MS. */
async function lateFetch(path: string, body: unknown, scenario: Scenario, extra: Record<string, string> = {}): Promise<{ started: number; pullStart: number; text: string; status: number }> {
  // Serialized and encoded first: a wire call starts at the request's creation, after the app's own work on the body.
  const payload = new TextEncoder().encode(JSON.stringify(body));
  const started = now();
  const res = await fetch(`${h.sim.url}${path}`, { method: 'POST', headers: headers(scenario, extra), body: payload });
  await sleep(LATE_READ_MS);
  const pullStart = now();
  return { started, pullStart, text: await res.text(), status: res.status };
}

/** When undici creates the next request (the instant a wire call starts), as a subscriber of its channel sees it. */
function nextRequestCreation(): Promise<number> {
  return new Promise((resolve) => {
    const onCreate = (): void => {
      diagnosticsChannel.unsubscribe('undici:request:create', onCreate);
      resolve(now());
    };
    diagnosticsChannel.subscribe('undici:request:create', onCreate);
  });
}

/** The only call span, once it ended (and a moment more for a stray second one to show). */
async function onlyCall(): Promise<ReadableSpan> {
  const [call] = await finishedCalls(h.exporter);
  await sleep(50);
  const calls = h.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
  expect(calls.map((s) => s.name)).toHaveLength(1);
  return call!;
}

interface PhaseCheck {
  /** Spans besides the contract's under the call (e.g. an application span). */
  extraSpans?: string[];
  client?: string;
  /** The timings the simulator was asked for. */
  injected?: InjectedTimings;
}

/** Streamed: call ⊃ llm.ttft ⊃ llm.client_setup, llm.queue and llm.decode, within ±10 % / ±30 ms, ended before the application read. */
function expectStreamedPhases(call: ReadableSpan, name: string, started: number, pullStart: number, what: string, { extraSpans = [], client = 'wire', injected = T }: PhaseCheck = {}): CallTree {
  const t = treeOf(h.exporter, call);
  expect(t.call.name).toBe(name);
  expect(t.call.kind).toBe(SpanKind.CLIENT);
  expect(t.all.map((s) => s.name).sort()).toEqual([name, 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft', ...extraSpans].sort());
  expectAdjoiningPhases(t);
  expectFaithful(startMs(t.call) - started, 0, 'call start');
  expectFaithful(durationMs(t.queue!), injected.queueMs, 'queue');
  expectFaithful(durationMs(t.ttft!), injected.queueMs + injected.prefillMs, 'ttft');
  expectFaithful(startMs(t.decode!) - endMs(t.queue!), injected.prefillMs, 'prefill');
  expectFaithful(durationMs(t.decode!), (injected.chunks - 1) * injected.chunkIntervalMs, 'decode');
  expect(endMs(t.call)).toBeLessThan(pullStart);
  recordFidelity(client, what, injected, t);
  return t;
}

/** Not streamed: call + llm.client_setup, llm.queue (the simulator answers once generation is done). */
function expectUnstreamedPhases(call: ReadableSpan, name: string, started: number, totalMs: number): CallTree {
  const t = treeOf(h.exporter, call);
  expect(t.call.name).toBe(name);
  expect(t.all.map((s) => s.name).sort()).toEqual([name, 'llm.client_setup', 'llm.queue']);
  expectAdjoiningPhases(t);
  expectFaithful(startMs(t.call) - started, 0, 'call start');
  expectFaithful(durationMs(t.queue!), totalMs, 'queue');
  expectFaithful(durationMs(t.call), totalMs, 'call');
  expect(t.call.attributes['gen_ai.request.stream']).toBe(false);
  return t;
}

const port = (): number => Number(new URL(h.sim.url).port);
const rateLimit = { requestsLimit: 100, requestsRemaining: 40, tokensLimit: 10000, tokensRemaining: 9000 };

describe('plain fetch, streamed, the application reading late', () => {
  it('OpenAI Chat Completions: the full contract, parented to the context active at the request', TIMING, async () => {
    const parent = h.provider.getTracer('app').startSpan('handler');
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: unique('What is the weather in Paris?') }], stream: true, stream_options: { include_usage: true } };
    const { started, pullStart, text } = await context.with(trace.setSpan(context.active(), parent), () =>
      withLlmContext({ conversationId: 'conv-wire', route: '/chat' }, () => lateFetch('/v1/chat/completions', body, { ...T, tokensPerChunk: 2, rateLimit })),
    );
    parent.end();
    expect(text).toContain('data: [DONE]');
    const [call] = await finishedCalls(h.exporter);
    const t = expectStreamedPhases(call!, 'chat gpt-4o', started, pullStart, 'chat.completions stream', { extraSpans: ['handler'] });
    expect(t.call.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    const usage = JSON.parse(text.split('\n').filter((l) => l.startsWith('data: {')).at(-1)!.slice(6)).usage;
    expect(t.call.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.conversation.id': 'conv-wire',
      'llm.route': '/chat',
      'server.address': '127.0.0.1',
      'server.port': port(),
      'llm.stream.chunks': T.chunks,
      'llm.tool_call_ms': 0,
      'llm.outcome': 'success',
      'llm.attempts': 1,
      'llm.retries': 0,
      'llm.ratelimit.requests.limit': 100,
      'llm.ratelimit.requests.remaining': 40,
      'llm.ratelimit.headroom': 0.4,
    });
    expect(t.call.attributes['gen_ai.response.id']).toMatch(/^chatcmpl-/);
    expect(t.call.attributes['llm.cache.state']).toBeTypeOf('string');
    expect(t.call.attributes['llm.cache.prefix_hash']).toBeTypeOf('string');
    expect(t.call.status.code).toBe(SpanStatusCode.UNSET);
    // No content capture unless opted in.
    for (const span of t.all) expect(JSON.stringify(span.attributes)).not.toContain('Paris');
    expect(t.queue!.events.map((e) => e.attributes)).toEqual([{ 'llm.attempt': 1, 'http.response.status_code': 200 }]);
  });

  it('OpenAI Chat Completions with a streamed tool call: llm.decode ⊃ llm.tool_call', TIMING, async () => {
    const toolCalls = [{ name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', fragments: 4 }];
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: unique('Weather?') }], stream: true, tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] };
    const scenario = { queueMs: T.queueMs, prefillMs: T.prefillMs, chunks: 6, chunkIntervalMs: T.chunkIntervalMs, toolCalls, finishReason: 'tool_calls' as const };
    const { started, pullStart } = await lateFetch('/v1/chat/completions', body, scenario);
    const call = await onlyCall();
    const t = treeOf(h.exporter, call);
    expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.tool_call get_weather', 'llm.ttft']);
    expectFaithful(durationMs(t.ttft!), T.queueMs + T.prefillMs, 'ttft');
    // 6 text chunks then 4 argument fragments, one interval apart.
    expectFaithful(durationMs(t.decode!), 9 * T.chunkIntervalMs, 'decode');
    expectFaithful(durationMs(t.tools[0]!), 3 * T.chunkIntervalMs, 'tool call');
    expect(startMs(t.tools[0]!)).toBeGreaterThanOrEqual(startMs(t.decode!));
    expect(endMs(t.tools[0]!)).toBeLessThanOrEqual(endMs(t.decode!));
    expect(endMs(t.call)).toBeLessThan(pullStart);
    expect(startMs(t.call) - started).toBeLessThan(30);
    expect(t.call.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
  });

  it('OpenAI Responses', TIMING, async () => {
    const body = { model: 'gpt-5', input: unique('Hello'), stream: true };
    const { started, pullStart } = await lateFetch('/v1/responses', body, T);
    const t = expectStreamedPhases(await onlyCall(), 'chat gpt-5', started, pullStart, 'responses stream');
    expect(t.call.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.response.finish_reasons': ['completed'], 'llm.outcome': 'success' });
    expect(t.call.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  });

  it('Anthropic Messages', TIMING, async () => {
    const body = { model: 'claude-sonnet-5-5', max_tokens: 256, messages: [{ role: 'user', content: unique('Hello') }], stream: true };
    const { started, pullStart } = await lateFetch('/v1/messages', body, { ...T, rateLimit }, { 'anthropic-version': '2023-06-01' });
    const t = expectStreamedPhases(await onlyCall(), 'chat claude-sonnet-5-5', started, pullStart, 'messages stream');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.cache_read.input_tokens': 0,
      'llm.ratelimit.requests.limit': 100,
      'llm.outcome': 'success',
    });
    expect(t.call.attributes['gen_ai.response.id']).toMatch(/^msg_/);
  });

  it('Gemini streamGenerateContent', TIMING, async () => {
    const body = { contents: [{ role: 'user', parts: [{ text: unique('Hello') }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] } };
    const { started, pullStart } = await lateFetch('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body, T);
    const t = expectStreamedPhases(await onlyCall(), 'generate_content gemini-2.5-flash', started, pullStart, 'streamGenerateContent');
    expect(t.call.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['STOP'],
      'llm.outcome': 'success',
    });
  });
});

describe('plain fetch, not streamed', () => {
  // The simulator answers in one piece once generation is done: queue + prefill + (chunks − 1) × interval.
  const scenario = { queueMs: 100, prefillMs: 200, chunks: 5, chunkIntervalMs: 20 };
  const total = 100 + 200 + 4 * 20;

  it('OpenAI Chat Completions', TIMING, async () => {
    const { started, text } = await lateFetch('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('Hi') }] }, scenario);
    const t = expectUnstreamedPhases(await onlyCall(), 'chat gpt-4o-mini', started, total);
    const completion = JSON.parse(text);
    expect(t.call.attributes).toMatchObject({
      'gen_ai.response.id': completion.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': completion.usage.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage.completion_tokens,
      'llm.outcome': 'success',
    });
    expect(t.call.attributes['llm.ttft_ms']).toBeUndefined();
  });

  it('OpenAI Responses', TIMING, async () => {
    const { started } = await lateFetch('/v1/responses', { model: 'gpt-5', input: [{ role: 'user', content: unique('Hi') }] }, scenario);
    const t = expectUnstreamedPhases(await onlyCall(), 'chat gpt-5', started, total);
    expect(t.call.attributes['gen_ai.response.finish_reasons']).toEqual(['completed']);
  });

  it('Anthropic Messages', TIMING, async () => {
    const { started } = await lateFetch('/v1/messages', { model: 'claude-haiku-5', max_tokens: 64, messages: [{ role: 'user', content: unique('Hi') }] }, scenario);
    const t = expectUnstreamedPhases(await onlyCall(), 'chat claude-haiku-5', started, total);
    expect(t.call.attributes['gen_ai.response.finish_reasons']).toEqual(['end_turn']);
  });

  it('Gemini generateContent', TIMING, async () => {
    const { started } = await lateFetch('/v1beta/models/gemini-2.5-pro:generateContent', { contents: [{ role: 'user', parts: [{ text: unique('Hi') }] }] }, scenario);
    const t = expectUnstreamedPhases(await onlyCall(), 'generate_content gemini-2.5-pro', started, total);
    expect(t.call.attributes).toMatchObject({ 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.response.finish_reasons': ['STOP'] });
  });
});

describe('a node:http client', () => {
  /** `http.request` writing a JSON body; resolves with the response once its headers are in. */
  function post(path: string, body: unknown, scenario: Scenario): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${h.sim.url}${path}`, { method: 'POST', headers: headers(scenario) }, resolve);
      req.on('error', reject);
      const json = JSON.stringify(body);
      // Written in two pieces, as clients that stream their body do.
      req.write(json.slice(0, 10));
      req.end(json.slice(10));
    });
  }

  async function text(res: IncomingMessage): Promise<string> {
    let out = '';
    for await (const chunk of res) out += String(chunk);
    return out;
  }

  it('streamed chat, read late: one call span at arrival times', TIMING, async () => {
    const started = now();
    const res = await post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: unique('Hi') }] }, T);
    await sleep(LATE_READ_MS);
    const pullStart = now();
    expect(await text(res)).toContain('[DONE]');
    const t = expectStreamedPhases(await onlyCall(), 'chat gpt-4o', started, pullStart, 'node:http chat stream');
    expect(t.call.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'server.port': port(), 'llm.outcome': 'success' });
  });

  it('Anthropic not streamed', TIMING, async () => {
    const started = now();
    const res = await post('/v1/messages', { model: 'claude-haiku-5', max_tokens: 32, messages: [{ role: 'user', content: unique('Hi') }] }, { queueMs: 150, chunks: 1 });
    const message = JSON.parse(await text(res));
    const t = expectUnstreamedPhases(await onlyCall(), 'chat claude-haiku-5', started, 150);
    expect(t.call.attributes).toMatchObject({ 'gen_ai.response.id': message.id, 'gen_ai.provider.name': 'anthropic' });
  });
});

describe('what is not an LLM call', () => {
  const noCall = async (): Promise<void> => {
    await sleep(100);
    expect(h.exporter.getFinishedSpans()).toEqual([]);
  };

  it('a POST to another path, a GET, a body of another shape, the exporter’s own requests', async () => {
    const json = { 'content-type': 'application/json' };
    for (const [path, init] of [
      ['/v1/embeddings', { method: 'POST', headers: json, body: JSON.stringify({ model: 'text-embedding-3-small', input: 'hi' }) }],
      ['/v1/traces', { method: 'POST', headers: json, body: JSON.stringify({ resourceSpans: [] }) }],
      ['/v1/chat/completions', { method: 'GET' }],
      ['/v1/chat/completions', { method: 'POST', headers: json, body: JSON.stringify({ hello: 'world' }) }],
      ['/v1/messages', { method: 'POST', headers: json, body: 'not json' }],
      ['/api/threads/1/messages', { method: 'POST', headers: json, body: JSON.stringify({ role: 'user', content: 'hi' }) }],
    ] as const) {
      await (await fetch(`${h.sim.url}${path}`, init)).text();
    }
    await noCall();
  });

  it('a patched SDK call is one call span, not one more from the wire', async () => {
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: unique('Hi') }] },
      { headers: { [SCENARIO_HEADER]: JSON.stringify({ chunks: 3, chunkIntervalMs: 10 }) } },
    );
    for await (const _ of stream);
    await h.anthropic.messages.create({ model: 'claude-haiku-5', max_tokens: 16, messages: [{ role: 'user', content: unique('Hi') }] });
    await h.gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: unique('Hi') });
    await finishedCalls(h.exporter, 3);
    await sleep(100);
    const calls = h.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(calls.map((s) => s.name)).toEqual(['chat gpt-4o', 'chat claude-haiku-5', 'generate_content gemini-2.5-flash']);
  });

  it('nothing when wire recognition is off', async () => {
    h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), wireCalls: false });
    try {
      await lateFetch('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }, { chunks: 1 });
      await noCall();
    } finally {
      h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), wireCalls: true });
    }
  });
});

describe('failures and bodies the tap cannot see', () => {
  it('a 429 is a failed call with its status; the client’s own retry is another call', async () => {
    const scenario = { httpErrors: { status: 429 as const, count: 1, retryAfterS: 0.1 }, chunks: 2 };
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: unique('Hi') }] };
    const first = await fetch(`${h.sim.url}/v1/chat/completions`, { method: 'POST', headers: headers(scenario), body: JSON.stringify(body) });
    expect(first.status).toBe(429);
    await first.text();
    const second = await fetch(`${h.sim.url}/v1/chat/completions`, { method: 'POST', headers: headers(scenario), body: JSON.stringify(body) });
    expect(second.status).toBe(200);
    await second.text();
    const calls = await finishedCalls(h.exporter, 2);
    expect(calls.map((c) => [c.attributes['llm.outcome'], c.attributes['error.type'], c.attributes['llm.attempts']])).toEqual([
      ['error', '429', 1],
      ['success', undefined, 1],
    ]);
    expect(calls[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(treeOf(h.exporter, calls[0]!).queue!.events[0]!.attributes).toMatchObject({ 'http.response.status_code': 429, 'llm.retry_after_s': 0.1, 'error.type': '429' });
  });

  it('a ReadableStream request body is read as undici sends it', TIMING, async () => {
    const json = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: unique('Hi') }] });
    const started = now();
    const res = await fetch(`${h.sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: headers(T),
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(json));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    await sleep(LATE_READ_MS);
    const pullStart = now();
    await res.text();
    const call = await onlyCall();
    // Node's fetch hands undici every body as a stream; the tap reads the bytes as they are sent.
    const t = expectStreamedPhases(call, 'chat gpt-4o', started, pullStart, 'fetch with a ReadableStream body');
    expect(t.call.attributes['gen_ai.request.model']).toBe('gpt-4o');
  });

  it('a body too large to parse: the call is recognised from its answer, named by the response model', TIMING, async () => {
    const big = 'word '.repeat(1_800_000); // 9 MB: over the 8 MiB the tap parses
    // The simulator parses and tokenizes 9 MB in this process before it can answer: 200-250 ms
    // here, more under load. A queue longer than that work keeps its due time the truth.
    const scenario = { ...T, queueMs: 1_000 };
    // The call starts when undici creates the request; before that fetch copies the 9 MB body
    // (10-60 ms, longer under load), which is the application's time, not the call's.
    const created = nextRequestCreation();
    const { pullStart } = await lateFetch('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: big }] }, scenario);
    const call = await onlyCall();
    const responseModel = call.attributes['gen_ai.response.model'];
    expect(responseModel).toBeTypeOf('string');
    // The queue starts at the call's start and so holds the upload until the simulator saw the
    // request (20-40 ms for 9 MB through this one event loop); its due times count from there.
    const uploadMs = Math.round(h.sim.requests.at(-1)!.receivedAt - startMs(call));
    const injected = { ...scenario, queueMs: scenario.queueMs + uploadMs };
    const t = expectStreamedPhases(call, `chat ${String(responseModel)}`, await created, pullStart, 'fetch with a 9 MB body', { injected });
    expect(t.call.attributes['gen_ai.request.model']).toBeUndefined();
    expect(t.call.attributes['gen_ai.request.stream']).toBe(true);
    expect(t.call.attributes['llm.outcome']).toBe('success');
  });

  it('content is captured only when enabled', async () => {
    h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), captureMessageContent: true });
    try {
      await lateFetch('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'Bonjour Paris' }] }, { chunks: 2 });
      const call = await onlyCall();
      expect(call.attributes['gen_ai.input.messages']).toContain('Bonjour Paris');
      expect(call.attributes['gen_ai.output.messages']).toBeTypeOf('string');
    } finally {
      h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), captureMessageContent: undefined });
    }
  });
});

describe('provider names on the wire', () => {
  it('an Azure-style request (api-version query, api-key header) is azure.ai.openai; a gateway header names its upstream', async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: unique('Hi') }] };
    await lateFetch('/v1/chat/completions?api-version=2024-10-21', body, { chunks: 1 }, { 'api-key': 'k' });
    await lateFetch('/v1/chat/completions', body, { chunks: 1 }, { 'x-portkey-provider': 'groq' });
    const calls = await finishedCalls(h.exporter, 2);
    expect(calls.map((c) => c.attributes['gen_ai.provider.name'])).toEqual(['azure.ai.openai', 'groq']);
    for (const c of calls) expect(c.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': port() });
  });
});

describe('hooks', () => {
  it('run for wire calls too: source wire, the parsed body as params, the outcome', async () => {
    const requests: LlmRequestHookInfo[] = [];
    const responses: LlmResponseHookInfo[] = [];
    h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), requestHook: (_span, info) => requests.push(info), responseHook: (_span, info) => responses.push(info) });
    try {
      const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] };
      await lateFetch('/v1/chat/completions', body, { chunks: 1 });
      await onlyCall();
      expect(requests).toEqual([{ provider: 'openai', operation: 'chat', method: 'chat.completions.create', model: 'gpt-4o', stream: false, params: body, source: 'wire' }]);
      expect(responses.map((r) => [r.outcome, r.finishReasons, r.request])).toEqual([['success', ['stop'], requests[0]]]);
    } finally {
      h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), requestHook: undefined, responseHook: undefined });
    }
  });
});

describe('Azure deployment paths and prefixed routes', () => {
  const API_VERSION = '2024-10-21';

  it('the patched AzureOpenAI client: one call span, azure.ai.openai, phases at arrival', TIMING, async () => {
    const { AzureOpenAI } = createRequire(import.meta.url)('openai') as typeof import('openai');
    const client = new AzureOpenAI({ endpoint: h.sim.url, apiKey: 'azure-key', apiVersion: API_VERSION, deployment: 'prism-gpt4o' });
    const started = now();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: unique('Hi') }], stream: true, stream_options: { include_usage: true } }, { headers: headers(T) });
    await sleep(LATE_READ_MS);
    const pullStart = now();
    for await (const _ of stream);
    const t = expectStreamedPhases(await onlyCall(), 'chat gpt-4o', started, pullStart, 'AzureOpenAI stream', { client: 'openai AzureOpenAI (SDK patch)' });
    expect(t.call.attributes).toMatchObject({
      'gen_ai.provider.name': 'azure.ai.openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'prism-gpt4o',
      'server.address': '127.0.0.1',
      'server.port': port(),
      'llm.outcome': 'success',
    });
  });

  it('the unpatched AzureOpenAI client (ESM copy) is recognised on the wire as azure.ai.openai', async () => {
    const { AzureOpenAI } = await import('openai');
    const client = new AzureOpenAI({ endpoint: h.sim.url, apiKey: 'azure-key', apiVersion: API_VERSION, deployment: 'prism-wire' });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: unique('Hi') }] }, { headers: headers({ chunks: 2 }) });
    const call = await onlyCall();
    expect(call.name).toBe('chat gpt-4o');
    expect(call.attributes).toMatchObject({ 'gen_ai.provider.name': 'azure.ai.openai', 'gen_ai.response.id': completion.id, 'llm.attempts': 1 });
  });

  it('fetch to a prefixed route (/openai/v1/chat/completions) and the openai SDK at a local-server prefix', TIMING, async () => {
    const body = { model: 'llama-3.3-70b', messages: [{ role: 'user', content: unique('Hi') }], stream: true };
    const { started, pullStart } = await lateFetch('/openai/v1/chat/completions', body, T);
    const t = expectStreamedPhases(await onlyCall(), 'chat llama-3.3-70b', started, pullStart, 'prefixed chat stream');
    expect(t.call.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'server.address': '127.0.0.1', 'server.port': port() });

    h.exporter.reset();
    const { OpenAI } = createRequire(import.meta.url)('openai') as typeof import('openai');
    const local = new OpenAI({ baseURL: `${h.sim.url}/api/v1`, apiKey: 'none' });
    await local.chat.completions.create({ model: 'qwen3', messages: [{ role: 'user', content: unique('Hi') }] }, { headers: headers({ chunks: 2 }) });
    const call = await onlyCall();
    expect(call.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'qwen3', 'server.address': '127.0.0.1', 'llm.outcome': 'success' });
  });
});
