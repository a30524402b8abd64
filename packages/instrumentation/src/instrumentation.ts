/**
 * OpenTelemetry instrumentation for LLM SDKs. Patches the SDK methods that start a model call so
 * each call gets a recorder; the timings come from the wire tap (wire-tap.ts), not the SDK.
 */
import { context, trace, type Span } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { cacheAttributes, CacheTracker, segmentsFor } from './cache/index.ts';
import { CallRecorder, type CacheAttributes, type CallSummary } from './call-recorder.ts';
import { currentLlmContext } from './context.ts';
import { withSdkTracingOff } from './anthropic-tracing.ts';
import { GenAiMetrics } from './metrics.ts';
import { ATTR_GEN_AI_CONVERSATION_ID, ATTR_LLM_ROUTE } from './semconv.ts';
import { SDKS, type PatchTarget } from './sdks.ts';
import type { LlmPrismInstrumentationConfig } from './types.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';
import { callScope, installWireTap } from './wire-tap.ts';

type SdkMethod = (this: unknown, ...args: unknown[]) => unknown;

function captureFromEnv(): boolean {
  return process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true';
}

/**
 * The promise that settles with the call's HTTP outcome: the Stainless SDKs' APIPromise (openai
 * 4–7, `@anthropic-ai/sdk` 0.14–1.x) exposes the raw response promise as `responsePromise`
 * (observing it parses nothing); Gemini's methods return a plain promise.
 */
function responsePromiseOf(result: unknown): Promise<unknown> | undefined {
  const p = (result as { responsePromise?: unknown } | null)?.responsePromise;
  if (p instanceof Promise) return p;
  return result instanceof Promise ? result : undefined;
}

export class LlmPrismInstrumentation extends InstrumentationBase<LlmPrismInstrumentationConfig> {
  /** What this process has seen of prompt prefixes, for `llm.cache.*`. */
  readonly #cache: CacheTracker;
  /** GenAI histograms on the instrumentation's meter (the global, no-op one until one is configured). */
  #metrics: GenAiMetrics | undefined;

  constructor(config: LlmPrismInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
    this.#cache = new CacheTracker(config.promptCache);
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    return SDKS.map((sdk) => {
      const files = sdk.files.flatMap(({ path, versions, targets }) =>
        sdk.extensions.map(
          (ext) =>
            new InstrumentationNodeModuleFile(
              `${path}${ext}`,
              versions,
              (exports: Record<string, unknown>) => this.#patch(exports, targets),
              (exports: Record<string, unknown>) => this.#unpatch(exports, targets),
            ),
        ),
      );
      if (sdk.sdkTracing) files.push(...this.sdkTracingFiles(sdk.sdkTracing, sdk.extensions, sdk.versions));
      const main = sdk.main;
      return new InstrumentationNodeModuleDefinition(
        sdk.module,
        sdk.versions,
        main && ((exports: Record<string, unknown>) => this.#patch(exports, main)),
        main && ((exports: Record<string, unknown>) => this.#unpatch(exports, main)),
        files,
      );
    });
  }

  /** See anthropic-tracing.ts. (Not `#private`: init() runs inside the base constructor.) */
  private sdkTracingFiles(path: string, extensions: string[], versions: string[]): InstrumentationNodeModuleFile[] {
    return extensions.map(
      (ext) =>
        new InstrumentationNodeModuleFile(
          `${path}${ext}`,
          versions,
          (exports: Record<string, unknown>) => {
            if (typeof exports.resolveOpenTelemetryOptions === 'function') {
              this._wrap(exports, 'resolveOpenTelemetryOptions', (original) => withSdkTracingOff(original as Parameters<typeof withSdkTracingOff>[0]));
            }
            return exports;
          },
          (exports: Record<string, unknown>) => this._unwrap(exports, 'resolveOpenTelemetryOptions'),
        ),
    );
  }

  override enable(): void {
    installWireTap();
    super.enable();
  }

  #patch(exports: Record<string, unknown>, targets: PatchTarget[]): Record<string, unknown> {
    for (const target of targets) {
      const proto = (exports[target.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
      // Never twice: one call, one recorder (a re-export of an already patched class, say).
      if (proto && typeof proto[target.methodName] === 'function' && !isWrapped(proto[target.methodName])) {
        this._wrap(proto, target.methodName, (original) => this.#wrapCall(original as SdkMethod, target));
      }
    }
    return exports;
  }

  #unpatch(exports: Record<string, unknown>, targets: PatchTarget[]): void {
    for (const target of targets) {
      const proto = (exports[target.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
      if (proto) this._unwrap(proto, target.methodName);
    }
  }

  #wrapCall(original: SdkMethod, target: PatchTarget): SdkMethod {
    const instrumentation = this;
    return function call(this: unknown, ...args: unknown[]): unknown {
      const recorder = instrumentation.#startCall(this, target, args[0], args[1]);
      if (!recorder) return original.apply(this, args);
      let result: unknown;
      try {
        const spanContext = trace.setSpan(context.active(), recorder.span);
        result = callScope.run(recorder, () => context.with(spanContext, () => original.apply(this, args)));
      } catch (err) {
        instrumentation.#safely(() => recorder.failed(err));
        throw err;
      }
      // A side branch: the application's promise and its errors stay exactly as the SDK made them.
      instrumentation.#safely(() =>
        responsePromiseOf(result)?.then(
          () => instrumentation.#safely(() => recorder.settled()),
          (err: unknown) => instrumentation.#safely(() => recorder.settled(err ?? new Error('rejected'))),
        ),
      );
      return result;
    };
  }

  /** Instruments follow the meter (InstrumentationBase swaps it on `setMeterProvider`). */
  #recordMetrics(summary: CallSummary): void {
    if (this.#metrics?.meter !== this.meter) this.#metrics = new GenAiMetrics(this.meter);
    this.#metrics.record(summary);
  }

  /** Runs instrumentation code whose failure must never reach the application. */
  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this._diag.debug('internal failure ignored', err);
    }
  }

  /** A recorder for a call, or undefined to run it uninstrumented (never throws). */
  #startCall(resource: unknown, target: PatchTarget, params: unknown, options: unknown): CallRecorder | undefined {
    try {
      const sdkSpan = target.parentSpan?.(options);
      const baseURL = target.baseURL(resource);
      const info = target.adapter.requestInfo(params, typeof baseURL === 'string' ? baseURL : undefined);
      const app = currentLlmContext();
      return new CallRecorder({
        tracer: this.tracer,
        adapter: target.adapter,
        info,
        parentContext: sdkSpan ? trace.setSpan(context.active(), sdkSpan) : context.active(),
        captureContent: this.getConfig().captureMessageContent ?? captureFromEnv(),
        extraAttributes: { [ATTR_GEN_AI_CONVERSATION_ID]: app?.conversationId, [ATTR_LLM_ROUTE]: app?.route },
        cacheAttributes: this.#cacheClassifier(target, params, info.model, app?.conversationId),
        onEnd: (summary) => this.#recordMetrics(summary),
      });
    } catch (err) {
      this._diag.debug('could not start an LLM call span', err);
      return undefined;
    }
  }

  /** Prefix segments are taken at call start (the application may reuse its params object). */
  #cacheClassifier(target: PatchTarget, params: unknown, model: string | undefined, conversationId: string | undefined): CacheAttributes {
    const segments = segmentsFor(target.provider, target.method, params);
    return (usage, startedAt, endedAt) =>
      cacheAttributes(
        this.#cache.classify({
          provider: target.provider,
          model,
          conversationId,
          segments,
          usage: { inputTokens: usage.inputTokens ?? 0, cacheReadTokens: usage.cacheReadTokens ?? 0, cacheWriteTokens: usage.cacheWriteTokens ?? 0 },
          startedAt,
          now: endedAt,
        }),
      );
  }
}
