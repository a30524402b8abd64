/** GenAI histograms against a real MeterProvider: values match the spans, buckets are exact. */
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { scenarioHeaders } from '@llm-prism/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TIMING, createHarness, expectNear, finishedCalls, scenario, type Harness } from '../test/harness.ts';

let h: Harness;
let exporter: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let meterProvider: MeterProvider;
beforeAll(async () => {
  h = await createHarness();
  // Delta: each collection holds only what the attempt at hand recorded (timing tests retry).
  exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  // A long interval: the test collects with forceFlush.
  reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  meterProvider = new MeterProvider({ readers: [reader] });
  h.instrumentation.setMeterProvider(meterProvider);
});
afterAll(async () => {
  await meterProvider.shutdown();
  await h.close();
});

const SECONDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

it('records duration, time to first chunk, time per output chunk and token usage per call', TIMING, async () => {
  await reader.forceFlush();
  exporter.reset();
  h.exporter.reset();
  const messages = [{ role: 'user' as const, content: 'hello there' }];
  for await (const _ of await h.client.chat.completions.create(
    { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
    scenario({ prefillMs: 300, chunks: 6, chunkIntervalMs: 100, tokensPerChunk: 3 }),
  ));
  await h.anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 100, messages }, scenario({ queueMs: 50, chunks: 4 }));
  const failed = await h.gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hello', config: { httpOptions: { headers: scenarioHeaders({ chunks: 5, failAfterChunks: 2 }) } } });
  await (async () => {
    for await (const _ of failed);
  })().catch(() => undefined);
  const spans = await finishedCalls(h.exporter, 3);
  const span = (provider: string) => spans.find((s) => s.attributes['gen_ai.provider.name'] === provider)!;

  await reader.forceFlush();
  const metrics = exporter.getMetrics().at(-1)!.scopeMetrics.flatMap((s) => s.metrics);
  const histogram = (name: string) => {
    const m = metrics.find((x) => x.descriptor.name === name) as HistogramMetricData | undefined;
    expect(m, name).toBeDefined();
    expect(m!.dataPointType).toBe(DataPointType.HISTOGRAM);
    return m!;
  };
  const point = (name: string, provider: string, tokenType?: string) => {
    const points = histogram(name).dataPoints.filter((p) => p.attributes['gen_ai.provider.name'] === provider && p.attributes['gen_ai.token.type'] === tokenType);
    return points.length === 1 ? points[0] : undefined;
  };

  for (const name of ['gen_ai.client.operation.duration', 'gen_ai.client.operation.time_to_first_chunk', 'gen_ai.client.operation.time_per_output_chunk']) {
    expect(histogram(name).descriptor.unit).toBe('s');
    for (const p of histogram(name).dataPoints) expect(p.value.buckets.boundaries, name).toEqual(SECONDS);
  }
  expect(histogram('gen_ai.client.token.usage').descriptor.unit).toBe('{token}');
  for (const p of histogram('gen_ai.client.token.usage').dataPoints) expect(p.value.buckets.boundaries).toEqual(TOKENS);

  // OpenAI, streamed: one duration, one TTFT, a gap per chunk after the first.
  const openai = span('openai');
  const duration = point('gen_ai.client.operation.duration', 'openai')!;
  expect(duration.value.count).toBe(1);
  expect(duration.value.sum).toBeCloseTo(hrTimeToMilliseconds(openai.duration) / 1000, 5);
  expect(duration.attributes).toEqual({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': openai.attributes['gen_ai.response.model'],
    'server.address': '127.0.0.1',
    'server.port': openai.attributes['server.port'],
  });
  expect(duration.attributes['server.port']).toBeTypeOf('number');
  const ttft = point('gen_ai.client.operation.time_to_first_chunk', 'openai')!;
  expect(ttft.value.count).toBe(1);
  expect(ttft.value.sum).toBeCloseTo(openai.attributes['gen_ai.response.time_to_first_chunk'] as number, 5);
  const perChunk = point('gen_ai.client.operation.time_per_output_chunk', 'openai')!;
  expect(perChunk.value.count).toBe(5);
  expect(perChunk.value.sum).toBeCloseTo((openai.attributes['llm.decode_ms'] as number) / 1000, 5);
  // Against the injected delays: 300 ms prefill, 5 gaps of 100 ms (long enough for ±35 % on a busy machine).
  expectNear(ttft.value.sum! * 1000, 300, 'ttft metric');
  expectNear(perChunk.value.sum! * 1000, 5 * 100, 'chunk gaps metric');
  expect(point('gen_ai.client.token.usage', 'openai', 'input')!.value.sum).toBe(openai.attributes['gen_ai.usage.input_tokens']);
  expect(point('gen_ai.client.token.usage', 'openai', 'output')!.value.sum).toBe(18);

  // Anthropic, not streamed: no chunk metrics.
  const anthropic = span('anthropic');
  expect(point('gen_ai.client.operation.duration', 'anthropic')!.value.sum).toBeCloseTo(hrTimeToMilliseconds(anthropic.duration) / 1000, 5);
  expect(point('gen_ai.client.operation.time_to_first_chunk', 'anthropic')).toBeUndefined();
  expect(point('gen_ai.client.operation.time_per_output_chunk', 'anthropic')).toBeUndefined();
  expect(point('gen_ai.client.token.usage', 'anthropic', 'output')!.value.sum).toBe(4);
  // The bucket counts put 4 tokens in (1, 4].
  expect(point('gen_ai.client.token.usage', 'anthropic', 'output')!.value.buckets.counts.slice(0, 3)).toEqual([0, 1, 0]);

  // Gemini, failed mid-stream: error.type on every metric of the call.
  const gemini = span('gcp.gemini');
  const failedDuration = point('gen_ai.client.operation.duration', 'gcp.gemini')!;
  expect(failedDuration.attributes['error.type']).toBe('UNAVAILABLE');
  expect(failedDuration.attributes['gen_ai.operation.name']).toBe('generate_content');
  expect(failedDuration.value.sum).toBeCloseTo(hrTimeToMilliseconds(gemini.duration) / 1000, 5);
  expect(point('gen_ai.client.operation.time_per_output_chunk', 'gcp.gemini')!.value.count).toBe(1);
});
