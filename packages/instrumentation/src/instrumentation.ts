/**
 * OpenTelemetry instrumentation for LLM SDKs. Patches the SDK methods that start a model call so
 * each call gets a recorder; the timings come from the wire tap (wire-tap.ts), not the SDK.
 */
import { context, trace, type Span } from '@opentelemetry/api';
import type * as OtelInstrumentation from '@opentelemetry/instrumentation';
import { cacheAttributes, CacheTracker, lazySegments, snapshotRequest } from './cache/index.ts';
import { CallRecorder, type CacheAttributes, type CallSummary } from './call-recorder.ts';
import { requireCommonJs } from './commonjs.ts';
import { currentLlmContext, type LlmContext } from './context.ts';
import { patchEntry, takeEntryTime, unpatchEntry } from './call-entry.ts';
import { describeRequest } from './call-scope.ts';
import { callGroup, groupedMethod, groupedRetry, type CallGroup } from './call-group.ts';
import { isObject } from './formats/common.ts';
import type { Api, PatchTarget, SdkDefinition, SdkTracing } from './formats/format.ts';
import { CACHE_MODELS, FORMATS, type ProviderId } from './formats/index.ts';
import type { CallListener, RequestInfo, RequestTarget } from './internal-types.ts';
import { GenAiMetrics } from './metrics.ts';
import { isAbortError } from './outcome.ts';
import { providerName } from './provider-name.ts';
import { RETRY_LOOPS, RETRY_METHODS } from './retry-loops.ts';
import { ATTR_GEN_AI_CONVERSATION_ID, ATTR_GEN_AI_PROVIDER_NAME, ATTR_LLM_ROUTE } from './semconv.ts';
import { roundMs } from './stats.ts';
import type { LlmPrismInstrumentationConfig, LlmRequestHookInfo, LlmResponseHookInfo } from './types.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';
import { requestKey, type WireCall } from './wire-calls.ts';
import { acquireWireTap, callScope, THIS_COPY } from './wire-tap.ts';
import { configuredDeadlineMs, deadlineFromEnv } from './ttft-deadline.ts';

// Its CommonJS build: importing the ES build slows every typed array in the process (commonjs.ts).
const { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile, isWrapped, safeExecuteInTheMiddle } = requireCommonJs(
  '@opentelemetry/instrumentation',
) as typeof OtelInstrumentation;
type InstrumentationNodeModuleDefinition = OtelInstrumentation.InstrumentationNodeModuleDefinition;
type InstrumentationNodeModuleFile = OtelInstrumentation.InstrumentationNodeModuleFile;

type SdkMethod = (this: unknown, ...args: unknown[]) => unknown;

/** The standard GenAI switch for prompt and completion text. */
function captureFromEnv(): boolean {
  return process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true';
}

/** `LLM_PRISM_WIRE_CALLS=false` turns off the recognition of calls made outside the patched SDKs. */
function wireCallsFromEnv(): boolean {
  return process.env.LLM_PRISM_WIRE_CALLS?.trim().toLowerCase() !== 'false';
}

/** What opens one call, whether an SDK method or the wire started it. */
interface CallSpec {
  /** The request shape: the SDK method (or, on the wire, the SDK method of the same request shape). */
  api: Api;
  format: ProviderId;
  source: 'sdk' | 'wire';
  /** What the hook sees as the request parameters. */
  hookParams: unknown;
  /**
   * The request as the SDK method's parameters, for the prompt-cache segments (cut lazily, at
   * classification): for an SDK call a structural snapshot taken at call start
   * (cache/snapshot.ts), on the wire the body as sent.
   */
  params: unknown;
  /** What the request info was read from (input messages, when content capture is on). */
  infoParams: unknown;
  info: RequestInfo;
  parentContext: ReturnType<typeof context.active>;
  startTime?: number;
  /** The application's `withLlmContext` where the call started. */
  app: Readonly<LlmContext> | undefined;
  /** A patched `AzureOpenAI` client. */
  azureClient?: boolean;
  /** The client's retry loop the call was recognised in (call-group.ts). */
  group?: CallGroup;
  /** See PatchTarget.applicationSignal: whether the application aborted (undefined: any abort error is the application's). */
  applicationAborted?: () => boolean;
  /** See CallRecorderOptions.parsesEveryAnswer. */
  parsesEveryAnswer?: boolean;
}

/**
 * Runs `fulfilled` or `rejected` (which must not throw) when the call's HTTP outcome is known,
 * leaving the application's promise as the SDK made it. The Stainless SDKs' APIPromise (openai 4–7,
 * `@anthropic-ai/sdk` 0.14–1.x) reads the raw response from `responsePromise` (observing it parses
 * nothing); a handler on that promise would mark its rejection handled, and a call the application
 * never awaits would fail without its `unhandledRejection`. So the APIPromise gets a promise that
 * settles as the SDK's does, after it, and is as unhandled as the SDK's was until someone reads it.
 * Gemini's patched methods return a plain promise, which the SDK's public method awaits.
 */
function observeOutcome(result: unknown, fulfilled: (value: unknown) => void, rejected: (error: unknown) => void): void {
  const holder = result as { responsePromise?: unknown } | null;
  const p = holder?.responsePromise;
  if (!(p instanceof Promise)) {
    if (result instanceof Promise) result.then(fulfilled, rejected);
    return;
  }
  const observed = p.then(
    (value: unknown) => {
      fulfilled(value);
      return value;
    },
    (error: unknown) => {
      rejected(error);
      throw error;
    },
  );
  try {
    readObserved(holder!, p, observed);
  } catch {
    // not writable: below
  }
  // Not swapped: the SDK's promise is observed as it was; ours must not be reported unhandled.
  if (holder!.responsePromise !== observed) observed.catch(() => {});
}

type Unwrappable = { responsePromise?: unknown; _thenUnwrap?: unknown };

/**
 * Makes an APIPromise read `observed` in place of the SDK's `original`. openai 7 also gives each
 * APIPromise its own `_thenUnwrap`, over the request it was made from (`parse()`, `responses.stream()`
 * chain the patched `create` through it): the promise it returns would read the SDK's promise, and
 * `observed`, read by no one, would be reported unhandled though the application handled the failure.
 */
function readObserved(holder: Unwrappable, original: Promise<unknown>, observed: Promise<unknown>): void {
  holder.responsePromise = observed;
  const own = Object.getOwnPropertyDescriptor(holder, '_thenUnwrap');
  if (typeof own?.value !== 'function') return;
  const thenUnwrap = own.value as (this: unknown, ...args: unknown[]) => unknown;
  holder._thenUnwrap = function (this: unknown, ...args: unknown[]): unknown {
    const next = thenUnwrap.apply(this, args) as Unwrappable | null;
    try {
      if (next?.responsePromise !== original) throw new Error('an APIPromise of another shape');
      readObserved(next, original, observed);
    } catch {
      // Rather no unhandledRejection than one for a failure the application handles.
      observed.catch(() => {});
    }
    return next;
  };
}

export class LlmPrismInstrumentation extends InstrumentationBase<LlmPrismInstrumentationConfig> {
  /** What this process has seen of prompt prefixes, for `llm.cache.*`. */
  readonly #cache: CacheTracker;
  /** GenAI histograms on the instrumentation's meter: the global MeterProvider's when constructed, until `setMeterProvider` (which NodeSDK and registerInstrumentations call) sets another. */
  #metrics: GenAiMetrics | undefined;
  /** `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, read once; `captureMessageContent` wins. */
  readonly #captureFromEnv: boolean;
  /** `LLM_PRISM_WIRE_CALLS`, read once; `wireCalls` wins. */
  readonly #wireCallsFromEnv: boolean;
  /** `LLM_PRISM_TTFT_DEADLINE_MS` (or the default), read once; `ttftDeadlineMs` wins. */
  readonly #ttftDeadlineFromEnv: number;
  /** This instance's hold on the wire tap while enabled (see acquireWireTap). */
  #wireTapHold: (() => void) | undefined;
  /**
   * Every SDK module this instance patched, each copy of it: a process may load two copies of one
   * SDK (a dependency's own), and InstrumentationBase unpatches and re-patches only the last copy
   * loaded, which would leave the first patched after `disable()` with the wire tap gone.
   */
  readonly #patched = new Map<Record<string, unknown>, { format: ProviderId; targets: PatchTarget[] }>();

  constructor(config: LlmPrismInstrumentationConfig = {}) {
    // Enabled last: enabling patches the SDKs already imported at once (import-in-the-middle's
    // hook does, for an ESM app that imported `openai` first), and patching uses this class's
    // private members, which exist only once the base constructor has returned.
    super(PACKAGE_NAME, PACKAGE_VERSION, { ...config, enabled: false });
    this.#cache = new CacheTracker({ ...config.promptCache, models: CACHE_MODELS });
    this.#captureFromEnv = captureFromEnv();
    this.#wireCallsFromEnv = wireCallsFromEnv();
    this.#ttftDeadlineFromEnv = deadlineFromEnv();
    this.setConfig(config);
    if (this.getConfig().enabled !== false) this.enable();
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    return [...this.sdkDefinitions(), ...this.retryLoopDefinitions(), ...this.retryMethodDefinitions()];
  }

  /** See RETRY_METHODS (retry-loops.ts) and call-group.ts. */
  private retryMethodDefinitions(): InstrumentationNodeModuleDefinition[] {
    return RETRY_METHODS.map((m) => {
      const methodOf = (exports: Record<string, unknown>) => {
        const proto = (exports[m.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
        const name = proto && m.methods.find((n) => typeof proto[n] === 'function');
        return proto && name ? { proto, name } : undefined;
      };
      const files = m.extensions.map(
        (ext) =>
          new InstrumentationNodeModuleFile(
            `${m.file}${ext}`,
            m.versions,
            (exports: Record<string, unknown>) => {
              const target = methodOf(exports);
              if (target && !isWrapped(target.proto[target.name])) this._wrap(target.proto, target.name, (fn) => groupedMethod(fn as Parameters<typeof groupedMethod>[0]));
              return exports;
            },
            (exports: Record<string, unknown>) => {
              const target = methodOf(exports);
              if (target) this._unwrap(target.proto, target.name);
            },
          ),
      );
      return new InstrumentationNodeModuleDefinition(m.module, m.versions, undefined, undefined, files);
    });
  }

  /**
   * Clients' retry loops whose requests are recognised on the wire (call-group.ts): the loop runs
   * in a call group, so its retries are attempts of one call. (Not `#private`: init() runs inside
   * the base constructor.)
   */
  private retryLoopDefinitions(): InstrumentationNodeModuleDefinition[] {
    return RETRY_LOOPS.map(
      (loop) =>
        new InstrumentationNodeModuleDefinition(
          loop.module,
          loop.versions,
          (exports: Record<string, unknown>) => {
            const original = exports[loop.exportName];
            if (typeof original !== 'function' || isWrapped(original)) return exports;
            const descriptor = Object.getOwnPropertyDescriptor(exports, loop.exportName);
            if (descriptor && !descriptor.configurable && !descriptor.writable) {
              // A CommonJS bundle's getter export: the hook hands the application a copy with the wrapper.
              const wrapped = groupedRetry(original as Parameters<typeof groupedRetry>[0]);
              Object.defineProperty(wrapped, '__wrapped', { value: true });
              return Object.create(Object.getPrototypeOf(exports), {
                ...Object.getOwnPropertyDescriptors(exports),
                [loop.exportName]: { value: wrapped, enumerable: true, writable: true, configurable: true },
              }) as Record<string, unknown>;
            }
            this._wrap(exports, loop.exportName, (fn) => groupedRetry(fn as Parameters<typeof groupedRetry>[0]));
            return exports;
          },
          (exports: Record<string, unknown>) => {
            if (isWrapped(exports[loop.exportName]) && Object.getOwnPropertyDescriptor(exports, loop.exportName)?.configurable) this._unwrap(exports, loop.exportName);
          },
        ),
    );
  }

  /** Every wire format's SDKs (formats/). */
  private sdkDefinitions(): InstrumentationNodeModuleDefinition[] {
    return FORMATS.flatMap((format) => format.sdks.map((sdk) => this.sdkDefinition(format.id, sdk)));
  }

  /** (Not `#private`: init() runs inside the base constructor.) */
  private sdkDefinition(format: ProviderId, sdk: SdkDefinition): InstrumentationNodeModuleDefinition {
    const files = sdk.files.flatMap(({ path, versions, targets }) =>
      sdk.extensions.map(
        (ext) =>
          new InstrumentationNodeModuleFile(
            `${path}${ext}`,
            versions,
            (exports: Record<string, unknown>) => this.#patch(exports, format, targets),
            (exports: Record<string, unknown>) => this.#unpatch(exports, targets),
          ),
      ),
    );
    if (sdk.sdkTracing) files.push(...this.sdkTracingFiles(sdk.sdkTracing, sdk.extensions, sdk.versions));
    const main = sdk.main;
    return new InstrumentationNodeModuleDefinition(
      sdk.module,
      sdk.versions,
      main && ((exports: Record<string, unknown>) => this.#patch(exports, format, main)),
      main && ((exports: Record<string, unknown>) => this.#unpatch(exports, main)),
      files,
    );
  }

  /** The SDK's own tracing, turned off (SdkTracing). (Not `#private`: init() runs inside the base constructor.) */
  private sdkTracingFiles(tracing: SdkTracing, extensions: string[], versions: string[]): InstrumentationNodeModuleFile[] {
    return extensions.map(
      (ext) =>
        new InstrumentationNodeModuleFile(
          `${tracing.path}${ext}`,
          versions,
          (exports: Record<string, unknown>) => {
            if (typeof exports[tracing.exportName] === 'function') {
              this._wrap(exports, tracing.exportName, (original) => tracing.wrap(original) as typeof original);
            }
            return exports;
          },
          (exports: Record<string, unknown>) => this._unwrap(exports, tracing.exportName),
        ),
    );
  }

  /**
   * Patches the SDKs and subscribes the wire tap (once per instance, however often called). While
   * another copy of this package instruments the process, the instance stays disabled: both would
   * record every call (wire-tap.ts `acquireWireTap`).
   */
  override enable(): void {
    if (this.#wireTapHold === undefined) {
      const hold = acquireWireTap((call) => this.#startWireCall(call));
      if (typeof hold !== 'function') {
        this._diag.warn(
          `another copy of ${PACKAGE_NAME} (${hold.heldBy.version}, ${hold.heldBy.url}) already instruments this process: this instance (${THIS_COPY.version}, ${THIS_COPY.url}) stays disabled, so that no call is recorded twice. Install one copy (\`npm ls ${PACKAGE_NAME}\`), or configure the instance that is enabled first.`,
        );
        return;
      }
      this.#wireTapHold = hold;
    }
    super.enable();
    for (const [exports, { format, targets }] of this.#patched) this.#patch(exports, format, targets);
  }

  /**
   * Unpatches the SDKs and releases this instance's hold on the wire tap: once no enabled instance
   * is left, every diagnostics_channel subscription is gone. Calls in flight stop being observed.
   */
  override disable(): void {
    super.disable();
    for (const [exports, { targets }] of this.#patched) this.#unpatch(exports, targets);
    this.#wireTapHold?.();
    this.#wireTapHold = undefined;
  }

  #patch(exports: Record<string, unknown>, format: ProviderId, targets: PatchTarget[]): Record<string, unknown> {
    this.#patched.set(exports, { format, targets });
    for (const target of targets) {
      const proto = (exports[target.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
      // Never twice: one call, one recorder (a re-export of an already patched class, say).
      if (proto && typeof proto[target.methodName] === 'function' && !isWrapped(proto[target.methodName])) {
        this._wrap(proto, target.methodName, (original) => this.#wrapCall(original as SdkMethod, format, target));
        if (target.entryName) patchEntry(proto, target.entryName);
      }
    }
    return exports;
  }

  #unpatch(exports: Record<string, unknown>, targets: PatchTarget[]): void {
    for (const target of targets) {
      const proto = (exports[target.exportName] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
      if (proto && isWrapped(proto[target.methodName])) this._unwrap(proto, target.methodName);
      if (proto && target.entryName) unpatchEntry(proto, target.entryName);
    }
  }

  #wrapCall(original: SdkMethod, format: ProviderId, target: PatchTarget): SdkMethod {
    const instrumentation = this;
    // The method keeps its name and arity (`create.name`, `create.length`), as the application saw them.
    return Object.defineProperties(function call(this: unknown, ...args: unknown[]): unknown {
      // The call starts when the application calls, before any work of ours (or of the SDK's,
      // when the application called a public method that leads here: call-entry.ts).
      const now = performance.now();
      const startTime = takeEntryTime() ?? now;
      const group = callGroup.getStore();
      // A retry of the client's loop (LangChain's AsyncCaller): one more attempt of the failed call.
      const retried = group?.retrying();
      if (retried instanceof CallRecorder) {
        const spanContext = trace.setSpan(context.active(), retried.span);
        const result = callScope.run(retried.scope, () => context.with(spanContext, () => original.apply(this, args)));
        // The application's abort of a retry ends the call (call-group.ts); anything else, the loop decides.
        const aborted = (err: unknown) => instrumentation.#safely(() => (isAbortError(err) ? retried.aborted(err) : undefined));
        instrumentation.#safely(() => observeOutcome(result, () => {}, aborted));
        return result;
      }
      const recorder = instrumentation.#startCall(this, format, target, args[0], args[1], startTime);
      if (!recorder) return original.apply(this, args);
      group?.opened(recorder);
      let result: unknown;
      try {
        // The active context with the call span (the recorder's parent context is the active one, or an SDK span in it).
        result = callScope.run(recorder.scope, () => context.with(recorder.callContext, () => original.apply(this, args)));
      } catch (err) {
        instrumentation.#safely(() => recorder.failed(err));
        throw err;
      }
      // A side branch: the application's promise and its errors stay exactly as the SDK made them.
      instrumentation.#safely(() =>
        observeOutcome(
          result,
          (response: unknown) => instrumentation.#safely(() => recorder.settled(undefined, response)),
          (err: unknown) =>
            instrumentation.#safely(() => {
              // In a client's retry loop a failed attempt waits: the loop retries it or gives up,
              // unless the application aborted it (call-group.ts).
              if (group && isAbortError(err)) recorder.aborted(err);
              else if (!group || !recorder.awaitingRetry()) recorder.settled(err ?? new Error('rejected'));
            }),
        ),
      );
      return result;
    }, {
      name: { value: original.name, configurable: true },
      length: { value: original.length, configurable: true },
    });
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

  /**
   * A recorder for an SDK call started at `startTime` (`performance.now()` on entry to the patched
   * method), or undefined to run it uninstrumented (never throws). Only O(1) and O(objects) work
   * happens here, before the SDK builds its request: no hashing, no serialisation of the prompt.
   */
  #startCall(resource: unknown, format: ProviderId, target: PatchTarget, params: unknown, options: unknown, startTime: number): CallRecorder | undefined {
    try {
      const sdkSpan = target.parentSpan?.(options);
      const baseURL = target.baseURL(resource);
      const info = target.api.requestInfo(params, typeof baseURL === 'string' ? baseURL : undefined);
      const azureClient = target.azureClient?.(resource) === true;
      info.providerName = providerName(format, { url: typeof baseURL === 'string' ? baseURL : undefined, azureClient });
      return this.#openCall({
        api: target.api,
        format,
        source: 'sdk',
        hookParams: params,
        // The application may mutate its params object after the call: keep its structure now, cheaply.
        params: (target.api.snapshot ?? snapshotRequest)(params),
        infoParams: params,
        info,
        parentContext: sdkSpan ? trace.setSpan(context.active(), sdkSpan) : context.active(),
        startTime,
        app: currentLlmContext(),
        azureClient,
        ...(target.applicationSignal && { applicationAborted: () => target.applicationSignal!(params)?.aborted === true }),
        parsesEveryAnswer: target.parsesEveryAnswer === true,
      });
    } catch (err) {
      this._diag.debug('could not start an LLM call span', err);
      return undefined;
    }
  }

  /**
   * A recorder for a call recognised on the wire (wire-calls.ts): a request made outside any
   * patched SDK call; undefined when wire recognition is off. Never throws.
   */
  #startWireCall(call: WireCall): CallListener | undefined {
    try {
      if (!(this.getConfig().wireCalls ?? this.#wireCallsFromEnv)) return undefined;
      const { route, target } = call;
      const params = call.params ?? (route.pathModel ? { model: route.pathModel } : {});
      const info = route.api.requestInfo(params, target.url.href);
      info.stream = call.stream;
      info.providerName = providerName(route.format, target);
      return this.#openCall({
        api: route.api,
        format: route.format,
        source: 'wire',
        hookParams: call.body,
        params: call.params,
        infoParams: params,
        info,
        parentContext: call.parentContext,
        app: call.app,
        startTime: call.startTime,
        group: call.group,
        // The clients seen on the wire (the AI SDK, an application's `fetch(…).json()`) parse the answer whatever it says it is.
        parsesEveryAnswer: true,
      });
    } catch (err) {
      this._diag.debug('could not start an LLM call span for a request on the wire', err);
      return undefined;
    }
  }

  #openCall(spec: CallSpec): CallRecorder {
    const { info } = spec;
    const { app } = spec;
    const captureContent = this.getConfig().captureMessageContent ?? this.#captureFromEnv;
    if (captureContent) info.inputMessages = spec.api.inputMessages(isObject(spec.infoParams) ? spec.infoParams : {});
    const request: LlmRequestHookInfo = {
      provider: info.providerName,
      operation: info.operation,
      method: spec.api.method,
      model: info.model,
      stream: info.stream,
      params: spec.hookParams,
    };
    if (spec.source === 'wire') request.source = 'wire';
    const wire = spec.source === 'wire';
    const recorder = new CallRecorder({
      tracer: this.tracer,
      adapter: spec.api,
      info,
      parentContext: spec.parentContext,
      startTime: spec.startTime,
      applicationAborted: spec.applicationAborted,
      parsesEveryAnswer: spec.parsesEveryAnswer,
      // In a client's retry loop the loop decides when a failure is final (call-group.ts).
      singleAttempt: wire && !spec.group,
      providerName: (target: RequestTarget) => providerName(spec.format, { ...target, azureClient: spec.azureClient }),
      ttftDeadlineMs: configuredDeadlineMs(this.getConfig().ttftDeadlineMs, this.#ttftDeadlineFromEnv),
      captureContent,
      extraAttributes: { [ATTR_GEN_AI_CONVERSATION_ID]: app?.conversationId, [ATTR_LLM_ROUTE]: app?.route },
      cacheAttributes: this.#cacheClassifier(spec.format, spec.api, spec.params, info.model, app?.conversationId),
      beforeEnd: (span, summary) => {
        request.provider = String(summary.attribute(ATTR_GEN_AI_PROVIDER_NAME) ?? request.provider);
        this.#responseHook(span, request, summary);
      },
      onEnd: (summary) => this.#recordMetrics(summary),
    });
    spec.group?.opened(recorder);
    // Which of several waiting SDK calls a queued request is (call-scope.ts): asked only then.
    if (!wire) describeRequest(recorder.scope, spec.api, () => requestKey(spec.api, spec.params));
    this.#requestHook(recorder.span, request);
    return recorder;
  }

  /** The configured request hook; a failure is logged and goes no further. */
  #requestHook(span: Span, info: LlmRequestHookInfo): void {
    const hook = this.getConfig().requestHook;
    if (!hook) return;
    safeExecuteInTheMiddle(
      () => hook(span, info),
      (err) => err && this._diag.error('requestHook failed', err),
      true,
    );
  }

  /** The configured response hook, before the call span ends; a failure is logged and goes no further. */
  #responseHook(span: Span, request: LlmRequestHookInfo, summary: CallSummary): void {
    const hook = this.getConfig().responseHook;
    if (!hook) return;
    const info: LlmResponseHookInfo = {
      request,
      outcome: summary.outcome,
      errorType: summary.errorType,
      error: summary.error,
      finishReasons: summary.finishReasons,
      usage: summary.usage,
      durationMs: roundMs(summary.durationS * 1000),
      attributes: summary.attributes,
    };
    // Outside any call's scope: a request the hook makes is nobody's attempt.
    callScope.exit(() =>
      safeExecuteInTheMiddle(
        () => hook(span, info),
        (err) => err && this._diag.error('responseHook failed', err),
        true,
      ),
    );
  }

  /**
   * Prefix segments (canonical JSON and SHA-256 of the whole prompt: O(prompt bytes)) are cut
   * lazily, when the call is classified after its response, from `params` as kept at call start
   * (snapshotRequest), so they never delay the call's start or its request.
   */
  #cacheClassifier(format: ProviderId, api: Api, params: unknown, model: string | undefined, conversationId: string | undefined): CacheAttributes {
    const segments = lazySegments(() => (isObject(params) ? api.segments(params) : []));
    return (usage, startedAt, endedAt, scope) =>
      cacheAttributes(
        this.#cache.classify({
          provider: format,
          model,
          scope,
          conversationId,
          segments: segments(),
          usage: { inputTokens: usage.inputTokens ?? 0, cacheReadTokens: usage.cacheReadTokens ?? 0, cacheWriteTokens: usage.cacheWriteTokens ?? 0 },
          startedAt,
          now: endedAt,
        }),
      );
  }
}
