// Instrumentation faults: with no TracerProvider registered, with exporters that fail (the official
// OTLP exporter pointed at a closed port, and one that throws), and against responses of shapes
// no provider sends, every call through the instrumented `openai` client must give the application
// exactly what the uninstrumented client gives: the same chunks, values and errors.
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
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
import type OpenAIType from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LlmPrismInstrumentation } from '../../packages/instrumentation/src/index.ts';
import { ODD_CASES, startOddProvider, type OddProvider } from './odd-provider.ts';
import { freePort } from './serve-process.ts';
import { report } from './tally.ts';

// Enabled before `openai` is required: the CommonJS copy is patched, the ESM copy (imported below)
// is not and serves as the uninstrumented reference.
const instrumentation = new LlmPrismInstrumentation();
const { OpenAI } = createRequire(import.meta.url)('openai') as typeof import('openai');
const { OpenAI: PlainOpenAI } = await import('openai');

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

/** Strips what differs between two runs of the simulator (random ids, timestamps, padding). */
const stable = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (key, v: unknown) => (['id', 'created', 'created_at', 'obfuscation', 'system_fingerprint', 'sequence_number', 'item_id'].includes(key) ? undefined : v));

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

type Client = InstanceType<typeof OpenAI>;
interface Call {
  name: string;
  stream: boolean;
  run: (client: Client) => Promise<unknown>;
}

const messages = [{ role: 'user' as const, content: 'hi' }];
const simCall = (name: string, s: Scenario, stream: boolean, api: 'chat' | 'responses' = 'chat'): Call => ({
  name,
  stream,
  run: (c) => {
    const headers = { 'x-llm-sim-scenario': JSON.stringify(s) };
    return api === 'chat'
      ? c.chat.completions.create({ model: 'gpt-4o', messages, stream, stream_options: stream ? { include_usage: true } : undefined }, { headers })
      : c.responses.create({ model: 'gpt-4o', input: 'hi', stream }, { headers });
  },
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
];

const ODD_CALLS: Call[] = Object.entries(ODD_CASES).map(([model, reply]) => ({
  name: `odd: ${model}`,
  stream: reply.stream,
  run: (c) => c.chat.completions.create({ model, messages, stream: reply.stream }),
}));

/** Runs every call on the instrumented and the plain client and compares what the app saw. */
async function compareAll(label: string): Promise<void> {
  const options = (baseURL: string) => ({ baseURL, apiKey: 'test-key', maxRetries: 1 });
  const clients = (baseURL: string) => ({ instrumented: new OpenAI(options(baseURL)), plain: new PlainOpenAI(options(baseURL)) });
  const sims = clients(sim.openaiBaseURL);
  const odds = clients(odd.baseURL);
  const differing: string[] = [];
  let errors = 0;
  for (const [calls, pair] of [[SIM_CALLS, sims], [ODD_CALLS, odds]] as const) {
    for (const call of calls) {
      const withInstrumentation = await observe(() => call.run(pair.instrumented), call.stream);
      const without = await observe(() => call.run(pair.plain as unknown as Client), call.stream);
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
      const calls = memory.getFinishedSpans().filter((s: ReadableSpan) => s.name.startsWith('chat ') || s.name.startsWith('responses '));
      expect(calls.length).toBeGreaterThan(SIM_CALLS.length);
    } finally {
      await provider.shutdown().catch(() => {});
    }
  });
});
