/**
 * Test support: a real OTel SDK with an in-memory exporter, the instrumentation enabled before
 * the SDKs (`openai`, `@anthropic-ai/sdk`, `@google/genai`) are required (CommonJS copies, patched
 * through require-in-the-middle), their ESM copies left unpatched as the uninstrumented
 * references, and the provider simulator.
 */
import { createRequire } from 'node:module';
import { SpanKind } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startSimulator, type Scenario, type Simulator, type SimulatorOptions } from '@llm-prism/simulator';
import type AnthropicType from '@anthropic-ai/sdk';
import type { GoogleGenAI as GoogleGenAIType } from '@google/genai';
import type OpenAIType from 'openai';
import { expect } from 'vitest';
import { LlmPrismInstrumentation } from '../src/instrumentation.ts';
import type { LlmPrismInstrumentationConfig } from '../src/types.ts';

export interface Harness {
  sim: Simulator;
  exporter: InMemorySpanExporter;
  provider: TracerProvider;
  instrumentation: LlmPrismInstrumentation;
  /** Client built from the patched CommonJS copy of `openai`. */
  client: OpenAIType;
  /** Client built from the unpatched ESM copy: the reference for "behaves as uninstrumented". */
  plainClient: OpenAIType;
  /** `@anthropic-ai/sdk` clients: patched CommonJS copy and unpatched ESM reference. */
  anthropic: AnthropicType;
  plainAnthropic: AnthropicType;
  /** `@google/genai` clients: patched CommonJS copy and unpatched ESM reference. */
  gemini: GoogleGenAIType;
  plainGemini: GoogleGenAIType;
  close(): Promise<void>;
}

/**
 * `simulatorOptions` go to `startSimulator` (e.g. its prompt-cache model's TTL and minimum).
 * Wire recognition is off unless asked for (`wireCalls: true`, contract.ts's useWireHarness): it would make the unpatched ESM
 * clients — the tests' "uninstrumented" references — produce call spans too.
 */
export async function createHarness(config: LlmPrismInstrumentationConfig = {}, simulatorOptions: SimulatorOptions = {}): Promise<Harness> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const instrumentation = new LlmPrismInstrumentation({ wireCalls: false, ...config });
  instrumentation.setTracerProvider(provider);
  const require = createRequire(import.meta.url);
  const { OpenAI } = require('openai') as typeof import('openai');
  const { OpenAI: PlainOpenAI } = await import('openai');
  expect(PlainOpenAI).not.toBe(OpenAI);
  const { Anthropic } = require('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk');
  const { Anthropic: PlainAnthropic } = await import('@anthropic-ai/sdk');
  expect(PlainAnthropic).not.toBe(Anthropic);
  const { GoogleGenAI } = require('@google/genai') as typeof import('@google/genai');
  const { GoogleGenAI: PlainGoogleGenAI } = await import('@google/genai');
  expect(PlainGoogleGenAI).not.toBe(GoogleGenAI);
  const sim = await startSimulator({ ...simulatorOptions, port: 0 });
  const options = { baseURL: sim.openaiBaseURL, apiKey: 'test-key', maxRetries: 2 };
  const anthropicOptions = { baseURL: sim.anthropicBaseURL, apiKey: 'test-key', maxRetries: 2 };
  const geminiOptions = { apiKey: 'test-key', httpOptions: { baseUrl: sim.geminiBaseURL } };
  return {
    sim,
    exporter,
    provider,
    instrumentation,
    client: new OpenAI(options),
    plainClient: new PlainOpenAI(options),
    anthropic: new Anthropic(anthropicOptions),
    plainAnthropic: new PlainAnthropic(anthropicOptions),
    gemini: new GoogleGenAI(geminiOptions),
    plainGemini: new PlainGoogleGenAI(geminiOptions),
    async close() {
      instrumentation.disable();
      await provider.shutdown();
      await sim.close();
    },
  };
}

/** Request options that select a simulator scenario for one call. */
export function scenario(s: Scenario): { headers: Record<string, string> } {
  return { headers: { 'x-llm-sim-scenario': JSON.stringify(s) } };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (bounded) until `count` call spans have ended, then returns every finished span. */
export async function finishedCalls(exporter: InMemorySpanExporter, count = 1, timeoutMs = 5000): Promise<ReadableSpan[]> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const calls = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    if (calls.length >= count) return calls;
    await sleep(10);
  }
  throw new Error(`expected ${count} call span(s), got ${exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT).length}`);
}

/** The span tree under one call span, by name (tool calls as a list). */
export interface CallTree {
  call: ReadableSpan;
  ttft?: ReadableSpan;
  setup?: ReadableSpan;
  queue?: ReadableSpan;
  decode?: ReadableSpan;
  tools: ReadableSpan[];
  all: ReadableSpan[];
}

export function treeOf(exporter: InMemorySpanExporter, call: ReadableSpan): CallTree {
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === call.spanContext().traceId);
  const childrenOf = (parent: ReadableSpan) => spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
  const ttft = childrenOf(call).find((s) => s.name === 'llm.ttft');
  const decode = childrenOf(call).find((s) => s.name === 'llm.decode');
  const phases = ttft ? childrenOf(ttft) : childrenOf(call);
  const setup = phases.find((s) => s.name === 'llm.client_setup');
  const queue = phases.find((s) => s.name === 'llm.queue');
  const tools = decode ? childrenOf(decode).filter((s) => s.name.startsWith('llm.tool_call ')) : [];
  return { call, ttft, setup, queue, decode, tools, all: spans };
}

/**
 * llm.client_setup runs from the call's start to where llm.queue starts, and the attributes are
 * those spans' durations (to the microsecond).
 */
export function expectAdjoiningPhases(t: CallTree): void {
  expect(startMs(t.setup!)).toBe(startMs(t.call));
  expect(startMs(t.queue!)).toBe(endMs(t.setup!));
  expect(t.call.attributes['llm.client_setup_ms']).toBeCloseTo(durationMs(t.setup!), 2);
  expect(t.call.attributes['llm.queue_ms']).toBeCloseTo(durationMs(t.queue!), 2);
}

export const startMs = (s: ReadableSpan): number => hrTimeToMilliseconds(s.startTime);
export const endMs = (s: ReadableSpan): number => hrTimeToMilliseconds(s.endTime);
export const durationMs = (s: ReadableSpan): number => hrTimeToMilliseconds(s.duration);

/**
 * Options for tests that assert timings: on a shared, oversubscribed machine a late timer in the
 * in-process simulator can exceed any sane tolerance once; a wrong measurement fails every try.
 */
export const TIMING = { retry: 2 };

/** Loose enough for a shared 2-core machine, tight enough to catch a wrong phase: ±35 % or ±80 ms. */
export function expectNear(actual: number, expected: number, label: string): void {
  const tolerance = Math.max(expected * 0.35, 80);
  expect(Math.abs(actual - expected), `${label}: ${actual.toFixed(1)} ms vs ${expected} ms (±${tolerance.toFixed(0)})`).toBeLessThanOrEqual(tolerance);
}

/** What a streamed call was given: its span name, when it started and was first pulled, and the injected delays. */
export interface StreamedExpectation {
  name: string;
  started: number;
  pullStart: number;
  queueMs: number;
  prefillMs: number;
  chunks: number;
  chunkIntervalMs: number;
}

/**
 * The span tree of a streamed call against the injected delays: exactly call ⊃ llm.ttft ⊃
 * llm.client_setup, llm.queue and llm.decode, CLIENT kind, each phase within tolerance, and the call ended before the
 * application began to pull (arrival times, not read times).
 */
export function expectStreamedTree(exporter: InMemorySpanExporter, call: ReadableSpan, e: StreamedExpectation): CallTree {
  const t = treeOf(exporter, call);
  expect(t.call.name).toBe(e.name);
  expect(t.call.kind).toBe(SpanKind.CLIENT);
  expect(t.all.map((s) => s.name).sort()).toEqual([e.name, 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft']);
  expectAdjoiningPhases(t);
  expectNear(startMs(t.call) - e.started, 0, 'call start');
  expectNear(durationMs(t.queue!), e.queueMs, 'queue');
  expectNear(durationMs(t.ttft!), e.queueMs + e.prefillMs, 'ttft');
  expectNear(startMs(t.decode!) - endMs(t.queue!), e.prefillMs, 'prefill');
  expectNear(durationMs(t.decode!), (e.chunks - 1) * e.chunkIntervalMs, 'decode');
  expect(endMs(t.call)).toBeLessThan(e.pullStart);
  return t;
}
