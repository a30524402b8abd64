/**
 * The public API in the shape of the contrib instrumentations: request and response hooks run
 * under safeExecuteInTheMiddle, `disable()` / `enable()` unsubscribe and resubscribe the wire tap.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createHarness, finishedCalls, scenario, type Harness } from '../test/harness.ts';
import {
  ATTR_LLM_OUTCOME,
  ATTR_LLM_QUEUE_MS,
  ATTR_LLM_TTFT_MS,
  LlmPrismInstrumentation,
  type LlmPrismInstrumentationConfig,
  type LlmRequestHookInfo,
  type LlmResponseHookInfo,
} from './index.ts';

const CHANNELS = [
  'undici:request:create',
  'undici:request:headers',
  'undici:request:trailers',
  'undici:request:error',
  'http.client.request.created',
  'http.client.request.start',
  'http.client.response.finish',
  'http.client.request.error',
];
const subscribed = (): string[] => CHANNELS.filter((name) => diagnosticsChannel.hasSubscribers(name));

let h: Harness;
let initialConfig: LlmPrismInstrumentationConfig;
beforeAll(async () => {
  h = await createHarness();
  initialConfig = h.instrumentation.getConfig();
});
afterAll(() => h.close());
afterEach(() => {
  h.instrumentation.setConfig(initialConfig);
  h.exporter.reset();
  diag.disable();
});

function withHooks(hooks: Pick<LlmPrismInstrumentationConfig, 'requestHook' | 'responseHook'>): void {
  h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), ...hooks });
}

async function streamedChat(): Promise<string> {
  const params = { model: 'gpt-4o', stream: true as const, messages: [{ role: 'user' as const, content: 'Hi' }], stream_options: { include_usage: true } };
  const stream = await h.client.chat.completions.create(params, scenario({ chunks: 3, chunkIntervalMs: 10 }));
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

it('calls requestHook with the call span and the request right after the span started', async () => {
  const seen: LlmRequestHookInfo[] = [];
  withHooks({
    requestHook: (span, info) => {
      seen.push(info);
      span.setAttribute('app.tenant', 'acme');
      span.setAttribute('app.max_tokens', (info.params as { max_tokens: number }).max_tokens);
    },
  });
  const params = { model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hi' }] };
  await h.client.chat.completions.create(params, scenario({ chunks: 2 }));
  const [call] = await finishedCalls(h.exporter);
  expect(call!.attributes).toMatchObject({ 'app.tenant': 'acme', 'app.max_tokens': 64, 'gen_ai.request.model': 'gpt-4o-mini' });
  expect(seen).toEqual([{ provider: 'openai', operation: 'chat', method: 'chat.completions.create', model: 'gpt-4o-mini', stream: false, params }]);
  expect(seen[0]!.params).toBe(params);

  seen.length = 0;
  for await (const _ of await h.gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' })) void _;
  expect(seen).toMatchObject([{ provider: 'gcp.gemini', operation: 'generate_content', method: 'models.generateContentStream', model: 'gemini-2.5-flash', stream: true }]);
});

it('calls responseHook with the outcome and the final attributes right before the span ends', async () => {
  const seen: LlmResponseHookInfo[] = [];
  withHooks({
    requestHook: (span) => span.setAttribute('app.phase', 'request'),
    responseHook: (span, info) => {
      seen.push(info);
      expect(span.isRecording()).toBe(true);
      span.setAttribute('app.slow', (info.attributes[ATTR_LLM_TTFT_MS] as number) > 10_000);
      span.setAttribute('app.phase', 'response');
    },
  });
  await streamedChat();
  const [call] = await finishedCalls(h.exporter);
  expect(call!.attributes).toMatchObject({ 'app.slow': false, 'app.phase': 'response', [ATTR_LLM_OUTCOME]: 'success' });
  expect(seen).toHaveLength(1);
  const info = seen[0]!;
  expect(info).toMatchObject({ outcome: 'success', finishReasons: ['stop'], request: { method: 'chat.completions.create', stream: true } });
  expect(info.error).toBeUndefined();
  expect(info.usage.outputTokens).toBeGreaterThan(0);
  expect(info.durationMs).toBeGreaterThan(0);
  expect(info.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', [ATTR_LLM_OUTCOME]: 'success' });
  expect(info.attributes[ATTR_LLM_QUEUE_MS]).toBe(call!.attributes[ATTR_LLM_QUEUE_MS]);
});

it('gives responseHook the failure of a call that failed for good', async () => {
  const seen: LlmResponseHookInfo[] = [];
  withHooks({ responseHook: (_, info) => void seen.push(info) });
  await expect(
    h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }, { ...scenario({ httpErrors: { status: 500, count: 1 } }), maxRetries: 0 }),
  ).rejects.toMatchObject({ status: 500 });
  await finishedCalls(h.exporter);
  expect(seen).toMatchObject([{ outcome: 'error', errorType: '500', error: { status: 500 } }]);
});

it('logs a throwing hook through diag and leaves the SDK result and the span intact', async () => {
  const errors: unknown[][] = [];
  const logger: DiagLogger = { error: (...args) => void errors.push(args), warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(logger, DiagLogLevel.ERROR);
  withHooks({
    requestHook: () => {
      throw new Error('request hook bug');
    },
    responseHook: () => {
      throw new Error('response hook bug');
    },
  });
  const text = await streamedChat();
  const [call] = await finishedCalls(h.exporter);

  const plain = await h.plainClient.chat.completions.create(
    { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] },
    scenario({ chunks: 3, chunkIntervalMs: 10 }),
  );
  let plainText = '';
  for await (const chunk of plain) plainText += chunk.choices[0]?.delta.content ?? '';
  expect(text).toBe(plainText);

  expect(call!.attributes[ATTR_LLM_OUTCOME]).toBe('success');
  expect(call!.attributes[ATTR_LLM_TTFT_MS]).toBeGreaterThan(0);
  expect(call!.ended).toBe(true);
  expect(h.exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft']);
  const messages = errors.map((args) => args.map(String).join(' '));
  expect(messages.some((m) => m.includes('requestHook') && m.includes('request hook bug'))).toBe(true);
  expect(messages.some((m) => m.includes('responseHook') && m.includes('response hook bug'))).toBe(true);
});

it('disable() unpatches and unsubscribes the wire tap; enable() brings both back', async () => {
  expect(subscribed()).toEqual(CHANNELS);
  h.instrumentation.disable();
  expect(subscribed()).toEqual([]);
  await streamedChat();
  const ok = await h.anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] });
  expect(ok.content.length).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(h.exporter.getFinishedSpans()).toEqual([]);

  h.instrumentation.enable();
  expect(subscribed()).toEqual(CHANNELS);
  await streamedChat();
  const [call] = await finishedCalls(h.exporter);
  expect(call!.attributes[ATTR_LLM_TTFT_MS]).toBeGreaterThan(0);
  // The SDK's requests on Node's fetch have their `onData` wrapped: undici's per-chunk channel (an
  // object published for every body chunk in the process while anyone listens) stays unsubscribed.
  expect(diagnosticsChannel.hasSubscribers('undici:request:bodyChunkReceived')).toBe(false);
});

it('keeps the wire tap while another instance is enabled', async () => {
  const other = new LlmPrismInstrumentation({ enabled: false });
  other.setTracerProvider(h.provider);
  other.enable();
  other.enable();
  other.disable();
  other.disable();
  expect(subscribed()).toEqual(CHANNELS);
  await streamedChat();
  const [call] = await finishedCalls(h.exporter);
  expect(call!.attributes[ATTR_LLM_TTFT_MS]).toBeGreaterThan(0);

  other.enable();
  h.instrumentation.disable();
  expect(subscribed()).toEqual(CHANNELS);
  other.disable();
  expect(subscribed()).toEqual([]);
  h.instrumentation.enable();
  expect(subscribed()).toEqual(CHANNELS);
});

it('disable() unpatches every copy of an SDK the process loaded, not only the last; enable() patches them all again', () => {
  // A dependency's own openai (here the repo's openai 6 copy), loaded after the top-level openai 7.
  const require = createRequire(new URL('../../../test/sdk-majors/openai-6/', import.meta.url));
  const nested = require('openai/resources/chat/completions/completions') as { Completions: { prototype: { create: { __wrapped?: boolean } } } };
  const topLevel = createRequire(import.meta.url)('openai/resources/chat/completions/completions') as typeof nested;
  const wrapped = () => [Boolean(topLevel.Completions.prototype.create.__wrapped), Boolean(nested.Completions.prototype.create.__wrapped)];
  expect(topLevel).not.toBe(nested);
  expect(wrapped()).toEqual([true, true]);
  h.instrumentation.disable();
  expect(wrapped()).toEqual([false, false]);
  h.instrumentation.enable();
  expect(wrapped()).toEqual([true, true]);
});
