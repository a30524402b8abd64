// The instrumentation variants compared. Each runs in its own process (OpenLLMetry and OpenLIT need
// OTel API 1.9 and sdk-trace-base 2.x, this repo and the official contrib instrumentation API 1.10
// and sdk-trace 3.x), and each loads the CommonJS copy of
// `openai` after its instrumentation is set up, as `node --require`/`--import` setups do. Spans go to
// a BatchSpanProcessor whose exporter counts and discards them, so the figures hold the
// instrumentation's cost, not an exporter's network I/O.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type OpenAIType from 'openai';
import { ROOT } from '../lib/results.ts';

export const VARIANTS = ['openai7', 'openai7+prism', 'openai6', 'openai6+prism', 'openai6+otel', 'openai6+openllmetry', 'openai6+openlit', 'ai7', 'ai7+prism', 'ai7+telemetry'] as const;
/**
 * Controls: the bare openai 7 client with a known CPU cost added to every call (`SPIN_US` of the
 * main thread, spun before each request), so that a run is checked against a cost it must find:
 * (baseline + SPIN_US) ÷ baseline.
 */
export const CONTROLS = ['openai7+spin'] as const;
export type Variant = (typeof VARIANTS)[number] | (typeof CONTROLS)[number];
/** The CPU the `openai7+spin` control adds to each call, in µs. */
export const SPIN_US = 300;

/** The bare SDK each variant is compared with. */
export const BASELINE: Record<Variant, Variant> = {
  openai7: 'openai7',
  'openai7+prism': 'openai7',
  openai6: 'openai6',
  'openai6+prism': 'openai6',
  'openai6+otel': 'openai6',
  'openai6+openllmetry': 'openai6',
  'openai6+openlit': 'openai6',
  ai7: 'ai7',
  'ai7+prism': 'ai7',
  'ai7+telemetry': 'ai7',
  'openai7+spin': 'openai7',
};

export const PEERS_DIR = join(ROOT, 'bench/peers');
/** The official `@opentelemetry/instrumentation-openai` (OTel API 1.10) with its own openai 6. */
export const OTEL_PEER_DIR = join(ROOT, 'bench/peers-otel');

/** The Vercel AI SDK (`ai` 7, ESM only) with its OpenAI provider: what the `ai7` variants call. */
export interface AiSdk {
  streamText: typeof import('ai').streamText;
  generateText: typeof import('ai').generateText;
  createOpenAI: typeof import('@ai-sdk/openai').createOpenAI;
}

export interface Loaded {
  /** The client the variant calls: openai's class, or the AI SDK (bench-call.ts makes the call either way). */
  client: { OpenAI: typeof OpenAIType } | { ai: AiSdk };
  /** Spans handed to the exporter so far (null for the bare SDK). */
  exported(): number | null;
  flush(): Promise<void>;
  /** LLM Prism's instrumentation in the `+prism` variants: switched off and on by toggle.ts. */
  instrumentation?: Switchable;
  /** The `+prism` variants' other LLM Prism, from another revision (`loadVariant`'s `other`): toggle.ts `--base`. */
  other?: Switchable;
}

/** An OTel instrumentation as toggle.ts switches it. */
export interface Switchable {
  enable(): void;
  disable(): void;
}

/** The instrumentation class of an LLM Prism source tree (toggle.ts `--base`: another revision's). */
export type InstrumentationClass = new () => Instrumentation;

/** Counts and drops what it is given; the shape both SDK generations' exporters share. */
function discardingExporter() {
  let count = 0;
  return {
    exporter: {
      export(spans: readonly unknown[], done: (result: { code: number }) => void) {
        count += spans.length;
        done({ code: 0 });
      },
      shutdown: async () => {},
      forceFlush: async () => {},
    },
    count: () => count,
  };
}

const repoRequire = createRequire(import.meta.url);
const peerRequire = createRequire(join(PEERS_DIR, 'package.json'));
const otelRequire = createRequire(join(OTEL_PEER_DIR, 'package.json'));

/**
 * An OTel SDK (BatchSpanProcessor into the discarding exporter, AsyncLocalStorage context) registered
 * globally, then `client()` loaded: after the instrumentation, as `--import` setups do.
 */
async function withTracing(instrument: boolean, client: () => Promise<Loaded['client']>, other?: InstrumentationClass): Promise<Loaded> {
  const { context, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BatchSpanProcessor, TracerProvider } = await import('@opentelemetry/sdk-trace');
  // Required, as LLM Prism loads it: its ES build would slow every typed array in the process
  // (packages/instrumentation/src/commonjs.ts), here the bare SDK's as much as the instrumentation's.
  const { registerInstrumentations } = repoRequire('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { LlmPrismInstrumentation } = await import('@llm-prism/instrumentation');
  const sink = discardingExporter();
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: sink.exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  const instrumentation = instrument ? new LlmPrismInstrumentation() : undefined;
  // The other revision's is registered too (both see the client load), and switched off at once:
  // one LLM Prism at a time patches the client.
  const second = instrument && other ? new other() : undefined;
  if (instrumentation) registerInstrumentations({ instrumentations: second ? [instrumentation, second] : [instrumentation], tracerProvider: provider });
  const loaded: Loaded = { client: await client(), exported: sink.count, flush: () => provider.forceFlush(), instrumentation };
  if (second) {
    instrumentation!.disable();
    second.disable();
    instrumentation!.enable();
    loaded.other = second;
  }
  return loaded;
}

/** openai's client class as `require` finds it (the repo's 7, or bench/peers' 6 for a like-for-like comparison with the peers). */
const openaiOf = async (require: NodeJS.Require): Promise<Loaded['client']> => ({ OpenAI: (require('openai') as typeof import('openai')).OpenAI });

/**
 * The repo's `ai` 7 and `@ai-sdk/openai` 4 (ESM only: imported, never required); with `telemetry`,
 * the AI SDK's own OpenTelemetry spans as its docs set them up (`ai` 7: `registerTelemetry(new
 * OpenTelemetry())` from `@ai-sdk/otel`, on for every call once registered).
 */
async function aiOf(telemetry: boolean): Promise<Loaded['client']> {
  const [{ streamText, generateText, registerTelemetry }, { createOpenAI }] = await Promise.all([import('ai'), import('@ai-sdk/openai')]);
  if (telemetry) registerTelemetry(new (await import('@ai-sdk/otel')).OpenTelemetry());
  return { ai: { streamText, generateText, createOpenAI } };
}

interface PeerProvider {
  register(): void;
  forceFlush(): Promise<void>;
}

async function loadOpenLlmetry(): Promise<Loaded> {
  const { NodeTracerProvider, BatchSpanProcessor } = peerRequire('@opentelemetry/sdk-trace-node') as {
    NodeTracerProvider: new (o: object) => PeerProvider;
    BatchSpanProcessor: new (e: object) => object;
  };
  const { registerInstrumentations } = peerRequire('@opentelemetry/instrumentation') as { registerInstrumentations(o: object): void };
  const { OpenAIInstrumentation } = peerRequire('@traceloop/instrumentation-openai') as { OpenAIInstrumentation: new (c: object) => object };
  const sink = discardingExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(sink.exporter)] });
  provider.register();
  // Prompts and completions are not recorded, as in LLM Prism's default (OpenLLMetry's is on).
  registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ traceContent: false })] });
  return { client: await openaiOf(peerRequire), exported: sink.count, flush: () => provider.forceFlush() };
}

/** The official contrib instrumentation, as its README sets it up (message content capture is off by default). */
async function loadOtel(): Promise<Loaded> {
  const { context, trace } = otelRequire('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = otelRequire('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { BatchSpanProcessor, TracerProvider } = otelRequire('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const { registerInstrumentations } = otelRequire('@opentelemetry/instrumentation') as { registerInstrumentations(o: object): void };
  const { OpenAIInstrumentation } = otelRequire('@opentelemetry/instrumentation-openai') as { OpenAIInstrumentation: new () => object };
  const sink = discardingExporter();
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: sink.exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()], tracerProvider: provider });
  return { client: await openaiOf(otelRequire), exported: sink.count, flush: () => provider.forceFlush() };
}

async function loadOpenLit(): Promise<Loaded> {
  const openlit = (peerRequire('openlit') as { default: { init(o: object): void } }).default;
  // openlit.init builds its own NodeTracerProvider with a BatchSpanProcessor around an OTLP/HTTP
  // exporter; the exporter it keeps is swapped for the discarding one below, before any export.
  openlit.init({
    applicationName: 'bench',
    otlpEndpoint: 'http://127.0.0.1:9',
    captureMessageContent: false,
    disableMetrics: true,
    disableEvents: true,
    pricingJson: {},
  });
  // Not in openlit's exports map: reached by file path beside its entry point.
  const tracingPath = join(dirname(peerRequire.resolve('openlit')), 'otel/tracing.js');
  const tracing = (peerRequire(tracingPath) as { default: { traceExporter: { export: unknown }; traceProvider: PeerProvider } }).default;
  const sink = discardingExporter();
  tracing.traceExporter.export = sink.exporter.export;
  return { client: await openaiOf(peerRequire), exported: sink.count, flush: () => tracing.traceProvider.forceFlush() };
}

/**
 * Spins the main thread for `us` µs of wall time: CPU time as long as the thread is not preempted
 * (a block runs two worker processes and the simulator on 2 cores). Not by the thread's CPU clock:
 * `process.threadCpuUsage()` advances at the scheduler's tick here (4 ms steps), so a spin until it
 * moved 300 µs ran 2–4 ms.
 */
function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/** openai's client class whose every request first spins SPIN_US of CPU (the `openai7+spin` control). */
async function spinningOpenai(): Promise<Loaded['client']> {
  const { OpenAI } = (await openaiOf(repoRequire)) as { OpenAI: typeof OpenAIType };
  const spinningFetch: typeof fetch = (input, init) => {
    spin(SPIN_US);
    return fetch(input, init);
  };
  class SpinningOpenAI extends OpenAI {
    constructor(options: ConstructorParameters<typeof OpenAI>[0]) {
      super({ ...options, fetch: spinningFetch });
    }
  }
  return { OpenAI: SpinningOpenAI };
}

/** `other`: another revision's LLM Prism, registered beside this one in the `+prism` variants (toggle.ts `--base`). */
export async function loadVariant(variant: Variant, other?: InstrumentationClass): Promise<Loaded> {
  const bare = async (client: Promise<Loaded['client']>): Promise<Loaded> => ({ client: await client, exported: () => null, flush: async () => {} });
  switch (variant) {
    case 'openai7':
      return bare(openaiOf(repoRequire));
    case 'openai6':
      return bare(openaiOf(peerRequire));
    case 'ai7':
      return bare(aiOf(false));
    case 'openai7+prism':
      return withTracing(true, () => openaiOf(repoRequire), other);
    case 'openai6+prism':
      return withTracing(true, () => openaiOf(peerRequire), other);
    case 'ai7+prism':
      return withTracing(true, () => aiOf(false), other);
    case 'ai7+telemetry':
      // The AI SDK's own spans, as its docs set them up: the peer a user of the AI SDK has at hand.
      return withTracing(false, () => aiOf(true));
    case 'openai6+otel':
      return loadOtel();
    case 'openai6+openllmetry':
      return loadOpenLlmetry();
    case 'openai6+openlit':
      return loadOpenLit();
    case 'openai7+spin':
      return bare(spinningOpenai());
  }
}

/** Installed version of a package, from the repo or from bench/peers. */
export function versionOf(pkg: string, where: 'repo' | 'peers' | 'peers-otel'): string {
  const require = where === 'repo' ? repoRequire : where === 'peers' ? peerRequire : otelRequire;
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    // Packages whose exports map hides package.json: find it beside the resolved entry point.
    const entry = require.resolve(pkg);
    const dir = entry.slice(0, entry.lastIndexOf(`/node_modules/${pkg}/`) + `/node_modules/${pkg}/`.length);
    return (require(join(dir, 'package.json')) as { version: string }).version;
  }
}
