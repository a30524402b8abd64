/**
 * OpenTelemetry instrumentation for LLM SDKs. Patches the SDK methods that start a model call so
 * each call gets a recorder; the timings come from the wire tap (wire-tap.ts), not the SDK.
 */
import { context, trace, type Attributes } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
} from '@opentelemetry/instrumentation';
import { CallRecorder, type CacheAttributes } from './call-recorder.ts';
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
}

/** The SDK's resource modules, each shipped as CommonJS (.js) and ESM (.mjs). */
const OPENAI_FILES: Array<[path: string, target: PatchTarget]> = [
  ['openai/resources/chat/completions/completions', { exportName: 'Completions', adapter: openaiChat }],
  ['openai/resources/responses/responses', { exportName: 'Responses', adapter: openaiResponses }],
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
      this._wrap(proto, 'create', (original) => this.#wrapCreate(original as CreateFn, target.adapter));
    }
    return exports;
  }

  #unpatch(exports: Record<string, unknown>, target: PatchTarget): void {
    const proto = (exports[target.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (proto) this._unwrap(proto, 'create');
  }

  #wrapCreate(original: CreateFn, adapter: ProviderAdapter): CreateFn {
    const instrumentation = this;
    return function create(this: unknown, ...args: unknown[]): unknown {
      const recorder = instrumentation.#startCall(this, adapter, args[0]);
      if (!recorder) return original.apply(this, args);
      let result: unknown;
      try {
        const spanContext = trace.setSpan(context.active(), recorder.span);
        result = callScope.run(recorder, () => context.with(spanContext, () => original.apply(this, args)));
      } catch (err) {
        recorder.failed(err);
        throw err;
      }
      // A side branch: the application's promise and its errors stay exactly as the SDK made them.
      responsePromiseOf(result)?.then(
        () => recorder.settled(),
        (err: unknown) => recorder.settled(err ?? new Error('rejected')),
      );
      return result;
    };
  }

  /** A recorder for a call, or undefined to run it uninstrumented (never throws). */
  #startCall(resource: unknown, adapter: ProviderAdapter, params: unknown): CallRecorder | undefined {
    try {
      const baseURL = (resource as { _client?: { baseURL?: unknown } })._client?.baseURL;
      const info = adapter.requestInfo(params, typeof baseURL === 'string' ? baseURL : undefined);
      return new CallRecorder({
        tracer: this.tracer,
        adapter,
        info,
        parentContext: context.active(),
        captureContent: this.getConfig().captureMessageContent ?? captureFromEnv(),
        ...cacheHook(info.providerName, params),
      });
    } catch (err) {
      this._diag.debug('could not start an LLM call span', err);
      return undefined;
    }
  }
}

/**
 * CACHE HOOK — the one place where the prompt-cache classifier (src/cache/) and the application
 * context (src/context.ts, `withLlmContext`) plug into a call: conversation id / route at start,
 * `llm.cache.*` once usage is known. Until those modules land, calls carry neither.
 */
function cacheHook(_provider: string, _params: unknown): { extraAttributes?: Attributes; cacheAttributes?: CacheAttributes } {
  return {};
}
