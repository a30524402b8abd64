/**
 * The Anthropic SDK's own `anthropic.messages.create` span, active on the global TracerProvider,
 * next to ours: one call span per call and one trace (docs/conventions.md, "Anthropic's own spans").
 */
import { createRequire } from 'node:module';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createHarness, finishedCalls, scenario, sleep, type Harness } from '../test/harness.ts';

let h: Harness;
let Anthropic: typeof import('@anthropic-ai/sdk').Anthropic;
beforeAll(async () => {
  h = await createHarness();
  // As NodeSDK sets them up: the SDK traces on the global provider, context flows through async code.
  expect(trace.setGlobalTracerProvider(h.provider)).toBe(true);
  expect(context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())).toBe(true);
  ({ Anthropic } = createRequire(import.meta.url)('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk'));
});
afterAll(() => h.close());
beforeEach(() => h.exporter.reset());
afterEach(() => {
  delete process.env.ANTHROPIC_OPEN_TELEMETRY;
});

const params = { model: 'claude-sonnet-5-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'hello' }] };
const opts = scenario({ chunks: 3, chunkIntervalMs: 5 });

const client = (extra: Record<string, unknown> = {}) => new Anthropic({ baseURL: h.sim.anthropicBaseURL, apiKey: 'test-key', ...extra });

/** Every finished span once the SDK's (ended when the application finished reading) are in. */
async function spansAfter(calls: number): Promise<ReadableSpan[]> {
  await finishedCalls(h.exporter, calls);
  await sleep(100);
  return h.exporter.getFinishedSpans();
}

const clientSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.kind === SpanKind.CLIENT);

async function callEveryWay(c: InstanceType<typeof Anthropic>): Promise<void> {
  await c.messages.create(params, opts);
  for await (const _ of await c.messages.create({ ...params, stream: true }, opts));
  await c.messages.stream(params, opts).finalMessage();
}

it('the SDK really traces on the global provider (the uninstrumented ESM copy)', async () => {
  await h.plainAnthropic.messages.create(params, opts);
  await sleep(100);
  expect(h.exporter.getFinishedSpans().map((s) => s.name)).toEqual(['anthropic.messages.create']);
});

it('an instrumented client not asked for the SDK spans yields exactly one call span per call and one trace each', async () => {
  await callEveryWay(client());
  const spans = await spansAfter(3);
  expect(spans.some((s) => s.name.startsWith('anthropic.'))).toBe(false);
  const calls = clientSpans(spans);
  expect(calls.map((s) => s.name)).toEqual(['chat claude-sonnet-5-5', 'chat claude-sonnet-5-5', 'chat claude-sonnet-5-5']);
  expect(new Set(calls.map((s) => s.spanContext().traceId)).size).toBe(3);
  for (const call of calls) {
    const tree = spans.filter((s) => s.spanContext().traceId === call.spanContext().traceId);
    expect(tree.filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(1);
  }
  // The client reports what it does: traces off, the rest as the environment says.
  expect(client().openTelemetry.traces.enabled).toBe(false);
});

it('an explicit openTelemetry option keeps the SDK span, nested in the same trace', async () => {
  const c = client({ openTelemetry: { traces: true } });
  await c.messages.create(params, opts);
  const spans = await spansAfter(2);
  const ours = spans.find((s) => s.name === 'chat claude-sonnet-5-5')!;
  const sdk = spans.find((s) => s.name === 'anthropic.messages.create')!;
  expect(sdk.spanContext().traceId).toBe(ours.spanContext().traceId);
  expect(sdk.parentSpanContext?.spanId).toBe(ours.spanContext().spanId);
  // The SDK's span (CLIENT, gen_ai.operation.name) names ours as what measures the call: storage counts ours only.
  expect(sdk.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'llm.measured_by': ours.spanContext().spanId });
  expect(ours.attributes['llm.measured_by']).toBeUndefined();
});

it('ANTHROPIC_OPEN_TELEMETRY=true keeps the SDK span too; with messages.stream() it is the parent', async () => {
  process.env.ANTHROPIC_OPEN_TELEMETRY = 'true';
  const c = client();
  expect(c.openTelemetry.traces.enabled).toBe(true);
  await c.messages.stream(params, opts).finalMessage();
  const spans = await spansAfter(2);
  const ours = spans.find((s) => s.name === 'chat claude-sonnet-5-5')!;
  const sdk = spans.find((s) => s.name === 'anthropic.messages.create')!;
  expect(ours.spanContext().traceId).toBe(sdk.spanContext().traceId);
  expect(ours.parentSpanContext?.spanId).toBe(sdk.spanContext().spanId);
  expect(sdk.attributes['llm.measured_by']).toBe(ours.spanContext().spanId);
});
