/**
 * OpenTelemetry instrumentation for LLM SDKs. Patches the SDK methods that start a model call so
 * each call gets a recorder; the timings come from the wire tap (wire-tap.ts), not the SDK.
 */
import { context, trace } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
} from '@opentelemetry/instrumentation';
import { cacheAttributes, CacheTracker, segmentsFor, type Provider } from './cache/index.ts';
import { CallRecorder, type CacheAttributes } from './call-recorder.ts';
import { currentLlmContext } from './context.ts';
import { openaiChat, openaiResponses } from './providers/openai.ts';
import type { LlmPrismInstrumentationConfig, ProviderAdapter } from './types.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';
import { callScope, installWireTap } from './wire-tap.ts';

const OPENAI_VERSIONS = ['>=7.0.0 <8'];

type CreateFn = (this: unknown, ...args: unknown[]) => unknown;

interface PatchTarget {
  /** Export that holds the resource class, e.g. `Completions`. */
  exportName: string;
  adapter: ProviderAdapter;
  provider: Provider;
  /** The SDK method, as the prompt-cache classifier names request shapes. */
  method: string;
}

/** The SDK's resource modules, each shipped as CommonJS (.js) and ESM (.mjs). */
const OPENAI_FILES: Array<[path: string, target: PatchTarget]> = [
  ['openai/resources/chat/completions/completions', { exportName: 'Completions', adapter: openaiChat, provider: 'openai', method: 'chat.completions.create' }],
  ['openai/resources/responses/responses', { exportName: 'Responses', adapter: openaiResponses, provider: 'openai', method: 'responses.create' }],
];

function captureFromEnv(): boolean {
  return process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true';
}

/** `openai`'s APIPromise exposes the raw response promise; observing it consumes nothing. */
function responsePromiseOf(result: unknown): Promise<unknown> | undefined {
  const p = (result as { responsePromise?: unknown } | null)?.responsePromise;
  return p instanceof Promise ? p : undefined;
}

export class LlmPrismInstrumentation extends InstrumentationBase<LlmPrismInstrumentationConfig> {
  /** What this process has seen of prompt prefixes, for `llm.cache.*`. */
  readonly #cache = new CacheTracker();

  constructor(config: LlmPrismInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    const files = OPENAI_FILES.flatMap(([path, target]) =>
      ['.js', '.mjs'].map(
        (ext) =>
          new InstrumentationNodeModuleFile(
            `${path}${ext}`,
            OPENAI_VERSIONS,
            (exports: Record<string, unknown>) => this.#patch(exports, target),
            (exports: Record<string, unknown>) => this.#unpatch(exports, target),
          ),
      ),
    );
    return [new InstrumentationNodeModuleDefinition('openai', OPENAI_VERSIONS, undefined, undefined, files)];
  }

  override enable(): void {
    installWireTap();
    super.enable();
  }

  #patch(exports: Record<string, unknown>, target: PatchTarget): Record<string, unknown> {
    const proto = (exports[target.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (proto && typeof proto.create === 'function') {
      this._wrap(proto, 'create', (original) => this.#wrapCreate(original as CreateFn, target));
    }
    return exports;
  }

  #unpatch(exports: Record<string, unknown>, target: PatchTarget): void {
    const proto = (exports[target.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (proto) this._unwrap(proto, 'create');
  }

  #wrapCreate(original: CreateFn, target: PatchTarget): CreateFn {
    const instrumentation = this;
    return function create(this: unknown, ...args: unknown[]): unknown {
      const recorder = instrumentation.#startCall(this, target, args[0]);
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

  /** Runs instrumentation code whose failure must never reach the application. */
  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this._diag.debug('internal failure ignored', err);
    }
  }

  /** A recorder for a call, or undefined to run it uninstrumented (never throws). */
  #startCall(resource: unknown, target: PatchTarget, params: unknown): CallRecorder | undefined {
    try {
      const baseURL = (resource as { _client?: { baseURL?: unknown } })._client?.baseURL;
      const info = target.adapter.requestInfo(params, typeof baseURL === 'string' ? baseURL : undefined);
      const app = currentLlmContext();
      return new CallRecorder({
        tracer: this.tracer,
        adapter: target.adapter,
        info,
        parentContext: context.active(),
        captureContent: this.getConfig().captureMessageContent ?? captureFromEnv(),
        extraAttributes: { 'gen_ai.conversation.id': app?.conversationId, 'llm.route': app?.route },
        cacheAttributes: this.#cacheClassifier(target, params, app?.conversationId),
      });
    } catch (err) {
      this._diag.debug('could not start an LLM call span', err);
      return undefined;
    }
  }

  /** Prefix segments are taken at call start (the application may reuse its params object). */
  #cacheClassifier(target: PatchTarget, params: unknown, conversationId: string | undefined): CacheAttributes {
    const segments = segmentsFor(target.provider, target.method, params);
    return (usage, startedAt, endedAt) =>
      cacheAttributes(
        this.#cache.classify({
          provider: target.provider,
          conversationId,
          segments,
          usage: { inputTokens: usage.inputTokens ?? 0, cacheReadTokens: usage.cacheReadTokens ?? 0, cacheWriteTokens: usage.cacheWriteTokens ?? 0 },
          startedAt,
          now: endedAt,
        }),
      );
  }
}
