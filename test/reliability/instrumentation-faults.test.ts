// Instrumentation faults: with no TracerProvider registered, with exporters that fail (the official
// OTLP exporter pointed at a closed port, and one that throws), and against responses of shapes
// no provider sends, every call through the instrumented `openai`, `@anthropic-ai/sdk` and
// `@google/genai` clients must give the application exactly what the uninstrumented clients give:
// the same chunks, values and errors.
import { createRequire } from 'node:module';
import { SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { startSimulator, type Scenario, type Simulator } from '@llm-prism/simulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LlmPrismInstrumentation } from '../../packages/instrumentation/src/index.ts';
import { ODD_CASES, startOddProvider, type OddProvider, type OddSdk } from './odd-provider.ts';
import { freePort } from '../../packages/cli/test/serve-process.ts';
import { report } from './tally.ts';

// Enabled before the SDKs are required: their CommonJS copies are patched, the ESM copies
// (imported below) are not and serve as the uninstrumented reference.
const instrumentation = new LlmPrismInstrumentation();
const require = createRequire(import.meta.url);
const { OpenAI } = require('openai') as typeof import('openai');
const { Anthropic } = require('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk');
const { GoogleGenAI } = require('@google/genai') as typeof import('@google/genai');
const plain = {
  OpenAI: (await import('openai')).OpenAI,
  Anthropic: (await import('@anthropic-ai/sdk')).Anthropic,
  GoogleGenAI: (await import('@google/genai')).GoogleGenAI,
};

let sim: Simulator;
let odd: OddProvider;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  odd = await startOddProvider();
});
afterAll(async () => {
  instrumentation.disable();
  await sim?.close();
  await odd?.close();
});

/** What the application observes: chunks or value, then the error (class, status, message). */
interface Observed {
  chunks?: unknown[];
  value?: unknown;
  error?: { name: string; status: unknown; message: string };
}

const errorOf = (err: unknown): Observed['error'] => {
  const e = err as Error & { status?: unknown };
  return { name: e.constructor.name, status: e.status, message: e.message };
};

// What differs between two runs of the simulator: random ids, signatures, timestamps, padding,
// and the Date / Server-Timing headers Gemini's SDK copies into its responses.
const VARYING = new Set(['id', 'created', 'created_at', 'obfuscation', 'system_fingerprint', 'sequence_number', 'item_id', 'responseId', 'signature', 'date', 'server-timing']);
const stable = (value: unknown): unknown => JSON.parse(JSON.stringify(value), (key, v: unknown) => (VARYING.has(key) ? undefined : v));

async function observe(run: () => Promise<unknown>, stream: boolean): Promise<Observed> {
  const observed: Observed = {};
  try {
    const result = await run();
    if (!stream) observed.value = stable(result);
    else {
      observed.chunks = [];
      for await (const chunk of result as AsyncIterable<unknown>) observed.chunks.push(stable(chunk));
    }
  } catch (err) {
    observed.error = errorOf(err);
  }
  return observed;
}

interface Clients {
  openai: InstanceType<typeof OpenAI>;
  anthropic: InstanceType<typeof Anthropic>;
  gemini: InstanceType<typeof GoogleGenAI>;
}
interface Call {
  name: string;
  stream: boolean;
  run: (clients: Clients) => Promise<unknown>;
}

const messages = [{ role: 'user' as const, content: 'hi' }];
const headersFor = (s: Scenario) => ({ 'x-llm-sim-scenario': JSON.stringify(s) });
type Api = 'chat' | 'responses' | 'anthropic' | 'gemini';

function request(api: Api, c: Clients, model: string, stream: boolean, headers: Record<string, string> = {}): Promise<unknown> {
  switch (api) {
    case 'chat':
      return c.openai.chat.completions.create({ model, messages, stream, stream_options: stream ? { include_usage: true } : undefined }, { headers });
    case 'responses':
      return c.openai.responses.create({ model, input: 'hi', stream }, { headers });
    case 'anthropic':
      return c.anthropic.messages.create({ model, max_tokens: 64, messages, stream }, { headers });
    case 'gemini': {
      const params = { model, contents: 'hi', config: { httpOptions: { headers } } };
      return stream ? c.gemini.models.generateContentStream(params) : c.gemini.models.generateContent(params);
    }
  }
}

const simCall = (name: string, s: Scenario, stream: boolean, api: Api = 'chat'): Call => ({
  name,
  stream,
  run: (c) => request(api, c, api === 'gemini' ? 'gemini-2.5-flash' : api === 'anthropic' ? 'claude-test' : 'gpt-4o', stream, headersFor(s)),
});

const SIM_CALLS: Call[] = [
  simCall('stream ok', { chunks: 4 }, true),
  simCall('non-stream ok', { chunks: 3 }, false),
  simCall('responses stream ok', { chunks: 3 }, true, 'responses'),
  simCall('mid-stream error event', { chunks: 6, failAfterChunks: 2 }, true),
  simCall('mid-stream drop', { chunks: 6, failAfterChunks: 2, failMode: 'drop' }, true),
  simCall('responses mid-stream error', { chunks: 6, failAfterChunks: 2 }, true, 'responses'),
  simCall('500 then ok (retried)', { chunks: 2, httpErrors: { status: 500, count: 1 } }, true),
  simCall('429 every attempt', { chunks: 2, httpErrors: { status: 429, count: 10 } }, false),
  simCall('tool call', { chunks: 1, toolCalls: [{ name: 'lookup', arguments: '{"q":"x"}', fragments: 3 }] }, true),
  simCall('anthropic stream ok', { chunks: 4, thinkingChunks: 1 }, true, 'anthropic'),
  simCall('anthropic non-stream ok', { chunks: 2 }, false, 'anthropic'),
  simCall('anthropic mid-stream error', { chunks: 6, failAfterChunks: 2 }, true, 'anthropic'),
  simCall('anthropic 529 every attempt', { chunks: 2, httpErrors: { status: 529, count: 10 } }, false, 'anthropic'),
  simCall('gemini stream ok', { chunks: 4 }, true, 'gemini'),
  simCall('gemini non-stream ok', { chunks: 2 }, false, 'gemini'),
  simCall('gemini mid-stream error', { chunks: 6, failAfterChunks: 2 }, true, 'gemini'),
  simCall('gemini mid-stream drop', { chunks: 6, failAfterChunks: 2, failMode: 'drop' }, true, 'gemini'),
];

const API: Record<OddSdk, Api> = { openai: 'chat', anthropic: 'anthropic', gemini: 'gemini' };
const ODD_CALLS: Call[] = Object.entries(ODD_CASES).map(([model, reply]) => ({
  name: `odd: ${model}`,
  stream: reply.stream,
  run: (c) => request(API[reply.sdk], c, model, reply.stream),
}));

/** Runs every call on the instrumented and the plain client and compares what the app saw. */
async function compareAll(label: string): Promise<void> {
  const clients = (openaiBaseURL: string, anthropicBaseURL: string, geminiBaseURL: string) => {
    const openai = { baseURL: openaiBaseURL, apiKey: 'test-key', maxRetries: 1 };
    const anthropic = { baseURL: anthropicBaseURL, apiKey: 'test-key', maxRetries: 1 };
    const gemini = { apiKey: 'test-key', httpOptions: { baseUrl: geminiBaseURL } };
    return {
      instrumented: { openai: new OpenAI(openai), anthropic: new Anthropic(anthropic), gemini: new GoogleGenAI(gemini) },
      plain: { openai: new plain.OpenAI(openai), anthropic: new plain.Anthropic(anthropic), gemini: new plain.GoogleGenAI(gemini) } as unknown as Clients,
    };
  };
  const sims = clients(sim.openaiBaseURL, sim.anthropicBaseURL, sim.geminiBaseURL);
  const odds = clients(`${odd.url}/v1`, odd.url, odd.url);
  const differing: string[] = [];
  let errors = 0;
  for (const [calls, pair] of [[SIM_CALLS, sims], [ODD_CALLS, odds]] as const) {
    for (const call of calls) {
      const withInstrumentation = await observe(() => call.run(pair.instrumented), call.stream);
      const without = await observe(() => call.run(pair.plain), call.stream);
      if (without.error) errors++;
      try {
        expect(withInstrumentation, call.name).toEqual(without);
      } catch (err) {
        differing.push(`${call.name}: ${(err as Error).message.slice(0, 400)}`);
      }
    }
  }
  report(`instrumentation-faults ${label}`, { calls: SIM_CALLS.length + ODD_CALLS.length, endingInError: errors, differing: differing.length });
  expect(differing).toEqual([]);
  // Both kinds of outcome were exercised.
  expect(errors).toBeGreaterThan(5);
}

describe('instrumented calls behave as uninstrumented ones', () => {
  test('with no TracerProvider registered', async () => {
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    expect(plain.OpenAI).not.toBe(OpenAI);
    expect(plain.Anthropic).not.toBe(Anthropic);
    expect(plain.GoogleGenAI).not.toBe(GoogleGenAI);
    await compareAll('no-tracer-provider');
  });

  test('with exporters that fail', async () => {
    const memory = new InMemorySpanExporter();
    const throwing: SpanExporter = {
      export: () => {
        throw new Error('exporter exploded');
      },
      shutdown: () => Promise.resolve(),
    };
    const refused = new OTLPTraceExporter({ url: `http://127.0.0.1:${await freePort()}/v1/traces`, timeoutMillis: 500 });
    const provider = new TracerProvider({
      spanProcessors: [
        new SimpleSpanProcessor({ exporter: throwing }),
        new BatchSpanProcessor({ exporter: refused, scheduledDelayMillis: 10 }),
        new SimpleSpanProcessor({ exporter: memory }),
      ],
    });
    instrumentation.setTracerProvider(provider);
    try {
      await compareAll('failing-exporters');
      // The instrumentation was really at work: it made call spans that the exporters got.
      const calls = memory.getFinishedSpans().filter((s: ReadableSpan) => s.kind === SpanKind.CLIENT);
      const providers = new Set(calls.map((s) => s.attributes['gen_ai.provider.name']));
      expect(calls.length).toBeGreaterThan(SIM_CALLS.length);
      expect([...providers].sort()).toEqual(['anthropic', 'gcp.gemini', 'openai']);
    } finally {
      await provider.shutdown().catch(() => {});
    }
  });
});
