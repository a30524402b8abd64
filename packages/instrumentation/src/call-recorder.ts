/**
 * Accumulates one LLM call's timeline from the wire tap and, when the call ends, emits its span
 * tree with explicit start and end times (docs/conventions.md).
 */
import { diag, SpanKind, SpanStatusCode, trace, type Attributes, type AttributeValue, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { errorTypeOf, isAbortError, outcomeOfFinish, type Outcome } from './outcome.ts';
import { rateLimitAttributes, rateLimitHeaders, retryAfterSeconds } from './rate-limit.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_LLM_ATTEMPT,
  ATTR_LLM_ATTEMPTS,
  ATTR_LLM_CLIENT_SETUP_MS,
  ATTR_LLM_DECODE_MS,
  ATTR_LLM_DECODE_TOKENS_PER_SECOND,
  ATTR_LLM_READ_PACED,
  ATTR_LLM_STREAM_BACKPRESSURE,
  ATTR_LLM_STREAM_BACKPRESSURE_MS,
  ATTR_LLM_STREAM_BACKPRESSURE_START_MS,
  ATTR_LLM_MEASURED_BY,
  ATTR_LLM_OUTCOME,
  ATTR_LLM_PREFILL_MS,
  ATTR_LLM_QUEUE_MS,
  ATTR_LLM_RATE_LIMITED_ATTEMPTS,
  ATTR_LLM_RETRIES,
  ATTR_LLM_RETRY_AFTER_S,
  ATTR_LLM_STREAM_CHUNKS,
  ATTR_LLM_STREAM_GAP_MAX_MS,
  ATTR_LLM_STREAM_GAP_P50_MS,
  ATTR_LLM_STREAM_GAP_P95_MS,
  ATTR_LLM_TOOL_CALL_MS,
  ATTR_LLM_TTFT_DEADLINE_EXCEEDED,
  ATTR_LLM_TTFT_MS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  EVENT_LLM_HTTP_ATTEMPT,
  SPAN_NAME_LLM_CLIENT_SETUP,
  SPAN_NAME_LLM_DECODE,
  SPAN_NAME_LLM_QUEUE,
  SPAN_NAME_LLM_TOOL_CALL,
  SPAN_NAME_LLM_TTFT,
} from './semconv.ts';
import { anchoredEpoch, gapStats, roundMs as round, secondsOf } from './stats.ts';
import type { AttemptListener, CallListener, LlmEvent, ProviderAdapter, RequestInfo, RequestTarget, ResponseHeaders, SseEvent, StreamDecoder, ToolType, Usage } from './internal-types.ts';
import { cacheScopeOf } from './cache/scope.ts';
import { serverOf } from './provider-name.ts';
import type { GroupableCall } from './call-group.ts';
import { TtftDeadline } from './ttft-deadline.ts';
import { PACKAGE_NAME } from './version.ts';

/** Computes `llm.cache.*` attributes once usage is known; times in epoch ms (see instrumentation.ts). */
/** `scope`: the provider cache the call's request reached (cache/scope.ts), from its first attempt. */
export type CacheAttributes = (usage: Usage, startedAt: number, endedAt: number, scope: string | undefined) => Attributes;

export interface CallRecorderOptions {
  tracer: Tracer;
  adapter: ProviderAdapter;
  info: RequestInfo;
  parentContext: Context;
  captureContent: boolean;
  /** Attributes known at call start that are not request parameters (conversation id, route). */
  extraAttributes?: Attributes;
  cacheAttributes?: CacheAttributes;
  /**
   * Whether the application aborted the call, for an SDK that aborts requests of its own too
   * (`@google/genai`'s timeout): an abort error is then `aborted` only when this says so, and an
   * `error` of type `timeout` otherwise. Undefined: every abort error is the application's.
   */
  applicationAborted?: () => boolean;
  /**
   * How the client reads a successful non-streamed answer, so that the call fails (`invalid_response`)
   * exactly when the client throws on it. True: as JSON whatever its status or content type
   * (`@google/genai`, the AI SDK, `fetch(…).json()`), so an empty body fails too. False (the
   * Stainless SDKs, openai and `@anthropic-ai/sdk`): a 204 or `content-length: 0` answer is null, a
   * body whose content type is not JSON is returned as text, any other is parsed — but an empty one
   * is no failure (openai 7's rule; older openai releases and `@anthropic-ai/sdk` throw on it, which
   * the span does not tell apart: docs/conventions.md).
   */
  parsesEveryAnswer?: boolean;
  /** Called once with the call span and its final figures, after its last attributes are set and before it ends (the response hook). */
  beforeEnd?: (span: Span, summary: CallSummary) => void;
  /** Called once with the call's final figures when its span has ended (metrics). */
  onEnd?: (summary: CallSummary) => void;
  /** Call start (`performance.now()` time); default: now. A call recognised on the wire starts when its request was created. */
  startTime?: number;
  /**
   * The call is one HTTP request (recognised on the wire, no SDK around it): that request's
   * failure, or its end with an error status, ends the call. Otherwise an attempt's failure before
   * the answer only ends the call when the SDK gives up (`settled`).
   */
  singleAttempt?: boolean;
  /** `gen_ai.provider.name` of a request, from its URL and headers (provider-name.ts); applied to the first attempt. */
  providerName?: (target: RequestTarget) => string;
  /** ms after call start at which a call without output reports itself (ttft-deadline.ts); 0 or absent: never. */
  ttftDeadlineMs?: number;
}

/** The start attributes updated by the end ones, in that order, without the undefined ones. */
function updated(initial: Attributes, end: Attributes): Attributes {
  const attributes: Attributes = {};
  for (const key in initial) {
    const value = Object.hasOwn(end, key) ? end[key] : initial[key];
    if (value !== undefined) attributes[key] = value;
  }
  for (const key in end) if (!Object.hasOwn(initial, key) && end[key] !== undefined) attributes[key] = end[key];
  return attributes;
}

/** An answer with an error status, as the call's failure (`error.type` = the status). */
class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`HTTP ${status}`);
    this.name = 'HttpStatusError';
    this.status = status;
  }
}

/** What a finished call measured (durations in seconds), for the GenAI metrics (metrics.ts) and the response hook. */
export interface CallSummary {
  /** The call span's attributes, request and response ones included (made when first read: only the response hook needs them all). */
  readonly attributes: Attributes;
  /** One of `attributes`, without making them all (metrics). */
  attribute(key: string): AttributeValue | undefined;
  outcome: Outcome;
  errorType?: string;
  /** The failure that ended the call, if any. */
  error?: unknown;
  finishReasons: string[];
  durationS: number;
  /** Streamed calls with output only. */
  timeToFirstChunkS?: number;
  /** Streamed calls: the gaps between consecutive output chunks, in no particular order (one typed array: no per-gap allocation). */
  chunkGapsS: Float64Array;
  usage: Usage;
}

interface Attempt {
  start: number;
  /** Its request went onto the wire (headers written to a connected socket). */
  sentAt?: number;
  headersAt?: number;
  /** It failed (connection error, abort, dropped body). */
  failedAt?: number;
  status?: number;
  /** The client parses its body as JSON (and throws on one that is not): see CallRecorderOptions.parsesEveryAnswer. */
  json?: boolean;
  retryAfterS?: number;
  error?: unknown;
  /** Backpressure: the arrival that first paused the socket, the pause in progress, the pauses' sum. */
  firstPause?: number;
  pausedSince?: number;
  pausedMs?: number;
}

interface ToolCall {
  name: string;
  id: string | undefined;
  type: ToolType;
  choice: number;
  start: number;
  last: number;
  arguments: string;
}

/** When an attempt ended its part of `llm.queue`: its answer's headers, else its failure, else its request's creation. */
const attemptAt = (a: Attempt): number => a.headersAt ?? a.failedAt ?? a.start;

/** What one choice of the answer said (content capture), and its finish reason. */
interface Choice {
  text: string;
  reasoning: string;
  refusal: string;
  finishReason?: string;
}

/** The call ended because the application let go of a body it had not read to its end. */
class AbandonedError extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('The response was dropped before its body ended');
  }
}

/**
 * Calls whose response the SDK handed over before its body ended, by the object the SDK holds the
 * body through. Once that is collected the SDK has let go — but that alone does not say nothing
 * reads the rest: an application may read `asResponse().body` itself, and a body nobody cancelled
 * (a Gemini stream broken out of) still arrives whole and ends the call. So the call ends as
 * `aborted` only when its socket also stays paused (nothing reads what arrived) for
 * ABANDONED_PAUSE_MS: a body larger than undici's buffer that nobody reads never ends otherwise.
 * Held strongly until then, so the span is never lost; unregistered when the call ends.
 */
const abandonment = new FinalizationRegistry<CallRecorder>((recorder) => recorder.abandoned());
/**
 * Pauses that held the body back less than this in all are no backpressure: one event larger than
 * the stream's buffer (an inline image, a long tool argument) pauses the socket for a moment even
 * while the application reads at once (≈3 ms for 1 MB), and delays no arrival measurably.
 */
const BACKPRESSURE_MIN_MS = 20;

/** See `abandonment`: how long a paused body of a response the SDK let go of waits for a reader. */
const ABANDONED_PAUSE_MS = 5_000;

/** The process is ending on a signal while the call is in flight (the register entry, register.ts). */
class ProcessEndingError extends Error {
  override readonly name = 'AbortError';
  constructor(signal: string) {
    super(`The process ended (${signal}) while the call was in flight`);
  }
}

/**
 * Calls not yet ended, so that a process ending on a signal can still end them (`endCallsInFlight`).
 * Held strongly, as `abandonment` holds them: every call ends, and leaves the set then.
 */
const inFlight = new Set<CallRecorder>();

/**
 * Ends every call still in flight as `aborted`, now: the process is about to end on `signal` and
 * their answers would never arrive. Returns how many were ended.
 */
export function endCallsInFlight(signal: string): number {
  const calls = [...inFlight];
  for (const call of calls) {
    try {
      call.aborted(new ProcessEndingError(signal));
    } catch (err) {
      diag.debug('llm-prism: ending a call in flight failed', err);
    }
  }
  return calls.length;
}

/** An attempt of a call that has ended: nothing more to record. */
const RELEASED: AttemptListener = { headers() {}, sseEvent() {}, body() {}, end() {}, error() {} };

/** The statuses `fetch` (and node-fetch) follow to `Location` with a new request. */
const FOLLOWED_REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** What the OpenTelemetry SDK's span object shows (public fields; `instrumentationLibrary` before SDK 2). */
type SdkSpan = Span & { kind?: unknown; attributes?: Attributes; instrumentationScope?: { name?: string }; instrumentationLibrary?: { name?: string } };

/**
 * Another instrumentation's call span (CLIENT, `gen_ai.operation.name`) around this call or inside
 * it is marked with the id of `ours`, which measures the model request, so that storage counts it
 * once. Never one of our own: another call's span is active where a limiter sends a queued request.
 */
function markMeasured(other: Span | undefined, ours: Span): void {
  const sdkSpan = other as SdkSpan | undefined;
  if (sdkSpan === undefined || sdkSpan.kind !== SpanKind.CLIENT || typeof sdkSpan.attributes?.[ATTR_GEN_AI_OPERATION_NAME] !== 'string') return;
  if ((sdkSpan.instrumentationScope ?? sdkSpan.instrumentationLibrary)?.name === PACKAGE_NAME || !sdkSpan.isRecording()) return;
  sdkSpan.setAttribute(ATTR_LLM_MEASURED_BY, ours.spanContext().spanId);
}

/** A successful answer's body that is not JSON, or could not be decompressed: the SDK throws on it. */
const INVALID_RESPONSE: LlmEvent = { kind: 'error', type: 'invalid_response', message: 'a response body that is not JSON' };

export class CallRecorder implements GroupableCall {
  readonly span: Span;
  /** The parent context with the call span active: the SDK method runs in it, the phase spans are its children. */
  readonly callContext: Context;
  readonly #opts: CallRecorderOptions;
  readonly #start: number;
  /** The call's performance.now() times as epoch ms, anchored to the wall clock at its start. */
  readonly #epoch = anchoredEpoch();
  readonly #attempts: Attempt[] = [];
  /** The attempt that answered with a success status; only its body is the call's output. */
  #answer: Attempt | undefined;
  #rateLimitHeaders: ReadonlyMap<string, string> | undefined;
  /** Epoch ms at which the rate-limit headers arrived (Anthropic resets are absolute times). */
  #rateLimitAt = 0;
  /** The provider cache the first attempt reached (cache/scope.ts); set only when the call is classified. */
  #cacheScope: string | undefined;
  readonly #outputTimes: number[] = [];
  readonly #tools = new Map<string, ToolCall>();
  /** Content capture: each choice's output, by choice index. */
  readonly #choices = new Map<number, Choice>();
  #usage: Usage = {};
  readonly #finishReasons: string[] = [];
  /** The provider said the answer is complete (a finish reason or a completion event). */
  #completed = false;
  /** Decodes the answer's server-sent events (stateful for some formats). */
  readonly #decode: StreamDecoder;
  #responseId: string | undefined;
  #responseModel: string | undefined;
  #streamError: { type: string; message?: string } | undefined;
  /** The answer carried refusal text. */
  #refused = false;
  #ended = false;
  /** Ended by the application's abort inside a client's retry loop (call-group.ts). */
  #abortedByApplication = false;
  /** Arrival of the latest headers or body event seen (`performance.now()` time). */
  #lastArrival = 0;
  /** The SDK let go of the response before its body ended, and the timer that then waits on a pause (`abandonment`). */
  #letGo = false;
  #abandonTimer: ReturnType<typeof setTimeout> | undefined;
  /** Run when the call ends: the attempt listeners and their readers let go of the recorder. */
  #releases: Array<() => void> = [];
  /** Run before the call ends: the readers hand on the chunks they hold back. */
  #drains: Array<() => void> = [];
  readonly #initialAttributes: Attributes;
  /** Armed until the first output or the end (ttft-deadline.ts). */
  readonly #deadline: TtftDeadline | undefined;

  /**
   * What the call's async scope holds (`callScope`): the requests created in it are the call's
   * attempts. Anything created there keeps the scope (a keep-alive socket, for as long as it
   * lives), so it reaches the recorder only until the call ends.
   */
  readonly scope: CallListener;

  constructor(opts: CallRecorderOptions) {
    const ref: { recorder: CallRecorder | undefined } = { recorder: this };
    this.scope = { attempt: (at, target) => ref.recorder?.attempt(at, target) ?? RELEASED };
    this.#releases.push(() => {
      ref.recorder = undefined;
    });
    this.#opts = opts;
    this.#start = opts.startTime ?? performance.now();
    const { adapter } = opts;
    this.#decode = adapter.streamDecoder?.(opts.captureContent) ?? ((event) => adapter.streamEvents(event));
    const { info } = opts;
    const attributes: Attributes = {
      [ATTR_GEN_AI_OPERATION_NAME]: info.operation,
      [ATTR_GEN_AI_PROVIDER_NAME]: info.providerName,
      [ATTR_GEN_AI_REQUEST_MODEL]: info.model,
      [ATTR_GEN_AI_REQUEST_STREAM]: info.stream,
      [ATTR_SERVER_ADDRESS]: info.serverAddress,
      [ATTR_SERVER_PORT]: info.serverPort,
      ...opts.extraAttributes,
    };
    if (opts.captureContent && info.inputMessages) attributes[ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(info.inputMessages);
    const name = info.model ? `${info.operation} ${info.model}` : info.operation;
    this.#initialAttributes = attributes;
    this.span = opts.tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: this.#epoch(this.#start), attributes }, opts.parentContext);
    this.callContext = trace.setSpan(opts.parentContext, this.span);
    markMeasured(trace.getSpan(opts.parentContext), this.span);
    // No closure over `this`: the timer must not hold the recorder, nor make `scope` hold it.
    if (opts.ttftDeadlineMs) {
      this.#deadline = new TtftDeadline(opts.ttftDeadlineMs, { tracer: opts.tracer, callContext: this.callContext, start: this.#start, epoch: this.#epoch, attributes });
    }
    inFlight.add(this);
  }

  attempt(at: number, target?: RequestTarget): AttemptListener {
    // The request is created where the SDK runs it: inside a span of the SDK's own, if it traces.
    markMeasured(trace.getActiveSpan(), this.span);
    // `fetch` following a redirect sends the request again: the same attempt from its first send
    // (SDKs never retry a 3xx, so a request after one is the redirect's).
    const redirected = this.#attempts.at(-1);
    const followed = redirected?.status !== undefined && FOLLOWED_REDIRECTS.has(redirected.status) ? this.#attempts.pop() : undefined;
    const attempt: Attempt = followed ? { start: followed.start, sentAt: followed.sentAt } : { start: at };
    this.#attempts.push(attempt);
    if (this.#attempts.length === 1 && target) this.#target(target);
    const single = this.#opts.singleAttempt === true;
    // The listener reaches the recorder through `ref` only, cut when the call ends: a reader kept by
    // a request that never completes then holds neither the recorder nor its buffers.
    const ref: { recorder: CallRecorder | undefined } = { recorder: undefined };
    if (!this.#ended) ref.recorder = this;
    const listener: AttemptListener = {
      streamRequested: this.#opts.info.stream === true,
      headers: (status, headers, t) => {
        const r = ref.recorder;
        if (r) r.#attemptHeaders(attempt, status, headers, t);
      },
      sseEvent: (event: SseEvent, t) => {
        const r = ref.recorder;
        if (r && attempt === r.#answer) r.#arrived(r.#decode(event), t);
      },
      sseChunk: (bytes, t) => {
        const r = ref.recorder;
        const outputs = r && attempt === r.#answer ? r.#decode.wholeEvents?.(bytes) : undefined;
        if (r === undefined || outputs === undefined) return false;
        // What the chunk's events would have done one by one: each is an arrival, each output one at `t`.
        r.#lastArrival = t;
        for (let i = 0; i < outputs; i++) r.#output(t);
        return true;
      },
      body: (text, t) => {
        const r = ref.recorder;
        if (!r || attempt !== r.#answer) return;
        let json: unknown;
        try {
          // As fetch's .json() reads it: a byte order mark first is no error.
          json = text === undefined ? undefined : JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
        } catch {
          // Below: the SDK parses the same body.
        }
        if (json === undefined) {
          // The client parses this body and throws on it: the application gets no answer.
          if (attempt.json && (text !== '' || r.#parsesEveryAnswer())) r.#arrived([INVALID_RESPONSE], t);
          return;
        }
        r.#arrived(r.#opts.adapter.bodyEvents(json), t);
      },
      end: (t) => {
        const r = ref.recorder;
        if (!r) return;
        if (attempt === r.#answer) r.#finish(t);
        else if (single) r.#finish(t, attempt.status === undefined ? undefined : new HttpStatusError(attempt.status));
      },
      sent: (t) => {
        if (ref.recorder) attempt.sentAt ??= t;
      },
      error: (error, t) => {
        const r = ref.recorder;
        if (!r) return;
        attempt.error = error;
        attempt.failedAt ??= t;
        // Before the answer's headers the SDK may still retry; its promise reports the final failure.
        if (attempt === r.#answer || single) r.#finish(t, error);
      },
      paused: (t) => {
        const r = ref.recorder;
        if (!r) return;
        attempt.firstPause ??= t;
        attempt.pausedSince ??= t;
        if (attempt === r.#answer) r.#checkAbandoned();
      },
      resumed: (t) => {
        if (!ref.recorder || attempt.pausedSince === undefined) return;
        attempt.pausedMs = (attempt.pausedMs ?? 0) + (t - attempt.pausedSince);
        attempt.pausedSince = undefined;
      },
      onRelease: (release) => {
        if (ref.recorder) ref.recorder.#releases.push(release);
        else release();
      },
      onDrain: (drain) => {
        if (ref.recorder) ref.recorder.#drains.push(drain);
      },
    };
    this.#releases.push(() => {
      ref.recorder = undefined;
    });
    return listener;
  }

  /** The client parses every non-streamed answer, an empty one too (see CallRecorderOptions.parsesEveryAnswer). */
  #parsesEveryAnswer(): boolean {
    return this.#opts.parsesEveryAnswer === true && !this.#opts.info.stream;
  }

  /** Whether the client parses this answer's body as JSON (see CallRecorderOptions.parsesEveryAnswer). */
  #parsedAsJson(status: number, headers: ResponseHeaders): boolean {
    if (this.#parsesEveryAnswer()) return true;
    return status !== 204 && headers.get('content-length') !== '0' && /\bjson\b/i.test(headers.get('content-type') ?? '');
  }

  #attemptHeaders(attempt: Attempt, status: number, headers: ResponseHeaders, t: number): void {
    attempt.headersAt = t;
    attempt.status = status;
    attempt.json = this.#parsedAsJson(status, headers);
    attempt.retryAfterS = retryAfterSeconds(headers, this.#epoch(t));
    this.#lastArrival = t;
    const rateLimits = rateLimitHeaders(headers);
    if (rateLimits) {
      this.#rateLimitHeaders = rateLimits;
      this.#rateLimitAt = this.#epoch(t);
    }
    if (status < 300) this.#answer = attempt;
  }

  #arrived(events: LlmEvent[], at: number): void {
    this.#lastArrival = at;
    this.#apply(events, at);
  }

  /**
   * `server.address` / `server.port` and `gen_ai.provider.name` from the URL and headers of the
   * request actually sent (an SDK's base URL says less: `AzureOpenAI` adds `/deployments/…`).
   */
  #target(target: RequestTarget): void {
    if (this.#opts.cacheAttributes) this.#cacheScope = cacheScopeOf(target);
    const { serverAddress, serverPort } = serverOf(target.url);
    if (serverAddress !== undefined) {
      this.#update(ATTR_SERVER_ADDRESS, serverAddress);
      this.#update(ATTR_SERVER_PORT, serverPort);
    }
    const provider = this.#opts.providerName?.(target);
    if (provider !== undefined) this.#update(ATTR_GEN_AI_PROVIDER_NAME, provider);
  }

  /** Sets a start attribute on the span and in the kept start attributes, unless it already has that value (the base URL said so). */
  #update(key: string, value: string | number | undefined): void {
    if (this.#initialAttributes[key] === value) return;
    this.#initialAttributes[key] = value;
    this.span.setAttribute(key, value);
  }

  /**
   * The SDK's response promise settled: a rejection is the call's final failure (after retries).
   * `response` is what it resolved with (the Stainless SDKs: `{ response, … }`; Gemini: the result
   * or stream): while the body is still arriving, the call ends as `aborted` once the SDK lets go of
   * that object (see `abandonment`).
   */
  settled(error?: unknown, response?: unknown): void {
    if (error !== undefined) this.#finish(performance.now(), error);
    else if (this.#attempts.length === 0) this.#finish(performance.now()); // not seen on the wire (custom fetch)
    else if (!this.#ended) {
      const held = (response as { response?: unknown } | null | undefined)?.response ?? response;
      if ((typeof held === 'object' && held !== null) || typeof held === 'function') abandonment.register(held, this, this);
    }
  }

  /** The SDK let go of the response before its body ended (see `abandonment`). */
  abandoned(): void {
    this.#letGo = true;
    this.#checkAbandoned();
  }

  /**
   * Once the SDK has let go: a body whose socket has stayed paused for ABANDONED_PAUSE_MS ends the
   * call as aborted, at its last arrival (what it took on the wire, not when that was noticed);
   * else it is looked at again when that time is up, or at the next pause.
   */
  #checkAbandoned(): void {
    clearTimeout(this.#abandonTimer);
    this.#abandonTimer = undefined;
    const since = this.#answer?.pausedSince;
    if (this.#ended || !this.#letGo || since === undefined) return;
    const left = since + ABANDONED_PAUSE_MS - performance.now();
    if (left <= 0) {
      this.#finish(Math.max(this.#lastArrival, this.#start), new AbandonedError());
      return;
    }
    this.#abandonTimer = setTimeout(() => this.#checkAbandoned(), left);
    this.#abandonTimer.unref();
  }

  /** See call-group.ts: the last attempt failed (error status or no answer) and none answered. */
  awaitingRetry(): boolean {
    if (this.#ended || this.#answer) return false;
    const last = this.#attempts.at(-1);
    return last !== undefined && ((last.status !== undefined && last.status >= 400) || last.error !== undefined);
  }

  /**
   * See call-group.ts: the client's retry loop gave up; the last attempt's status, else its failure,
   * is the call's — unless the loop gave up because the application aborted (during a backoff, say).
   */
  gaveUp(error: unknown): void {
    if (this.#abortedByApp(error)) {
      this.aborted(error);
      return;
    }
    const last = this.#attempts.at(-1);
    this.#finish(performance.now(), last?.status !== undefined && last.status >= 400 ? new HttpStatusError(last.status) : (last?.error ?? error));
  }

  /** See call-group.ts: in a client's retry loop, the application aborted; the call ends now. */
  aborted(error: unknown): void {
    if (this.#ended) return;
    this.#abortedByApplication = true;
    this.#finish(performance.now(), error);
  }

  /** An abort error the application caused (see CallRecorderOptions.applicationAborted). */
  #abortedByApp(error: unknown): boolean {
    return isAbortError(error) && (this.#opts.applicationAborted?.() ?? true);
  }

  abortedByApplication(): boolean {
    return this.#abortedByApplication;
  }

  /** Ends the call when the SDK threw before sending anything. */
  failed(error: unknown): void {
    this.#finish(performance.now(), error);
  }

  /** A choice's captured output, created on first use. */
  #choice(index = 0): Choice {
    let choice = this.#choices.get(index);
    if (!choice) this.#choices.set(index, (choice = { text: '', reasoning: '', refusal: '' }));
    return choice;
  }

  #apply(events: LlmEvent[], at: number): void {
    let output = false;
    const capture = this.#opts.captureContent;
    for (const e of events) {
      switch (e.kind) {
        case 'output':
          output = true;
          if (e.refusal) this.#refused = true;
          if (capture) {
            const choice = this.#choice(e.choice);
            choice.text += e.text ?? '';
            choice.reasoning += e.reasoning ?? '';
            choice.refusal += e.refusal ?? '';
          }
          break;
        case 'toolCallStart':
          output = true;
          if (!this.#tools.has(e.key)) this.#tools.set(e.key, { name: e.name, id: e.id, type: e.type, choice: e.choice ?? 0, start: at, last: at, arguments: '' });
          break;
        case 'toolCallDelta': {
          output = true;
          const tool = this.#tools.get(e.key);
          if (tool) {
            tool.last = at;
            if (capture) tool.arguments += e.arguments;
          }
          break;
        }
        case 'toolCallArguments': {
          const tool = this.#tools.get(e.key);
          if (tool && capture && tool.arguments === '') tool.arguments = e.arguments;
          break;
        }
        case 'usage':
          for (const [k, v] of Object.entries(e.usage)) if (v !== undefined) (this.#usage as Record<string, number>)[k] = v;
          break;
        case 'finish':
          this.#finishReasons.push(e.reason);
          this.#completed = true;
          if (capture) this.#choice(e.choice).finishReason ??= e.reason;
          break;
        case 'completed':
          this.#completed = true;
          break;
        case 'responseMeta':
          this.#responseId = e.id ?? this.#responseId;
          this.#responseModel = e.model ?? this.#responseModel;
          break;
        case 'error':
          this.#streamError ??= { type: e.type, message: e.message };
          break;
      }
    }
    if (output) this.#output(at);
  }

  /** An event with output arrived at `at`. */
  #output(at: number): void {
    this.#outputTimes.push(at);
    this.#deadline?.clear();
  }

  #outcome(failure: unknown): { outcome: Outcome; errorType?: string; message?: string } {
    // A body that failed after its own events said it was complete (a chunked body without its
    // terminating chunk, say) is judged by those events.
    const afterCompletion = failure !== undefined && failure === this.#answer?.error && !this.#streamError && this.#completed;
    if (failure !== undefined && !afterCompletion) {
      // A body cancelled by its consumer fails with the cancel's reason (undici: `Response object
      // has been garbage collected` when the application dropped the response unread), not an Error.
      if (failure instanceof ProcessEndingError || this.#abortedByApp(failure) || (failure === this.#answer?.error && !(failure instanceof Error))) return { outcome: 'aborted' };
      const message = failure instanceof Error ? failure.message : undefined;
      // An abort the application did not ask for is the SDK's own timeout.
      const errorType = isAbortError(failure) ? 'timeout' : errorTypeOf(failure);
      return { outcome: 'error', errorType: this.#streamError?.type ?? errorType, message };
    }
    if (this.#streamError) return { outcome: 'error', errorType: this.#streamError.type, message: this.#streamError.message };
    const byFinish = outcomeOfFinish(this.#finishReasons);
    if (byFinish) return { outcome: byFinish };
    if (this.#refused) return { outcome: 'refused' };
    if (this.#opts.info.stream && this.#answer && !this.#completed) {
      // The body ended cleanly but the provider never said the answer was complete.
      return { outcome: 'error', errorType: 'incomplete_stream' };
    }
    return { outcome: 'success' };
  }

  #finish(end: number, failure?: unknown): void {
    if (this.#ended) return;
    this.#drain();
    this.#ended = true;
    try {
      this.#emit(end, failure);
    } finally {
      this.#release();
    }
  }

  /** The readers hand on the chunks they hold back: everything that arrived is counted. */
  #drain(): void {
    for (const drain of this.#drains) {
      try {
        drain();
      } catch (err) {
        diag.debug('llm-prism: draining a response reader failed', err);
      }
    }
  }

  /** Nothing is kept once the span has ended: the readers and the call's buffers let go. */
  #release(): void {
    this.#deadline?.clear();
    clearTimeout(this.#abandonTimer);
    abandonment.unregister(this);
    inFlight.delete(this);
    const releases = this.#releases;
    this.#releases = [];
    this.#drains = [];
    for (const release of releases) {
      try {
        release();
      } catch (err) {
        diag.debug('llm-prism: releasing a response reader failed', err);
      }
    }
    this.#attempts.length = 0;
    this.#outputTimes.length = 0;
    this.#tools.clear();
    this.#choices.clear();
    this.#finishReasons.length = 0;
    this.#rateLimitHeaders = undefined;
  }

  #emit(end: number, failure?: unknown): void {
    const { tracer, info } = this.#opts;
    const span = this.span;
    const callContext = this.callContext;
    const start = this.#start;
    const first = this.#outputTimes[0];
    const last = this.#outputTimes.at(-1);
    const streamedOutput = info.stream && first !== undefined && last !== undefined;
    const firstAttempt = this.#attempts[0];
    const lastAttempt = this.#attempts.at(-1);
    const queueEnd = this.#answer?.headersAt ?? (lastAttempt ? attemptAt(lastAttempt) : end);
    // Client set-up: until the first attempt's request is on the wire; one that never got there
    // (a connection failure, an abort) ends it with its failure; one not seen going out (a
    // transport that does not say), at its creation. Later attempts' connecting is retry time.
    const setupEnd = firstAttempt
      ? Math.min(firstAttempt.sentAt ?? (firstAttempt.headersAt === undefined ? firstAttempt.failedAt : undefined) ?? firstAttempt.start, queueEnd)
      : start;
    const attrs: Attributes = {};
    // Durations are rounded to the microsecond once, and what is derived from them (prefill, seconds)
    // is computed from the rounded values, so the attributes agree exactly with each other.
    const ttftMs = streamedOutput ? round(first - start) : undefined;
    const ttftS = ttftMs === undefined ? undefined : secondsOf(ttftMs);
    // Backpressure on the body that is the call's output: from its first pause on, arrivals are
    // the application's reads; a phase that ends later is marked, those that ended before are exact.
    const bodyAttempt = this.#answer ?? lastAttempt;
    const pausedMs = bodyAttempt?.firstPause === undefined ? 0 : (bodyAttempt.pausedMs ?? 0) + (bodyAttempt.pausedSince === undefined ? 0 : Math.max(0, end - bodyAttempt.pausedSince));
    const pausedAt = pausedMs >= BACKPRESSURE_MIN_MS ? bodyAttempt?.firstPause : undefined;
    if (pausedAt !== undefined) {
      attrs[ATTR_LLM_STREAM_BACKPRESSURE] = true;
      attrs[ATTR_LLM_STREAM_BACKPRESSURE_START_MS] = round(pausedAt - start);
      attrs[ATTR_LLM_STREAM_BACKPRESSURE_MS] = round(pausedMs);
    }
    const readPaced = (phaseEnd: number): Attributes | undefined =>
      pausedAt !== undefined && phaseEnd > pausedAt ? { [ATTR_LLM_READ_PACED]: true } : undefined;

    if (this.#attempts.length > 0) {
      const ttft = streamedOutput ? tracer.startSpan(SPAN_NAME_LLM_TTFT, { startTime: this.#epoch(start), attributes: readPaced(first) }, callContext) : undefined;
      const phaseContext = ttft ? trace.setSpan(callContext, ttft) : callContext;
      tracer.startSpan(SPAN_NAME_LLM_CLIENT_SETUP, { startTime: this.#epoch(start) }, phaseContext).end(this.#epoch(setupEnd));
      const queue = tracer.startSpan(SPAN_NAME_LLM_QUEUE, { startTime: this.#epoch(setupEnd) }, phaseContext);
      this.#attempts.forEach((a, i) => {
        const event: Attributes = { [ATTR_LLM_ATTEMPT]: i + 1 };
        if (a.status !== undefined) event[ATTR_HTTP_RESPONSE_STATUS_CODE] = a.status;
        if (a.retryAfterS !== undefined) event[ATTR_LLM_RETRY_AFTER_S] = a.retryAfterS;
        if (a.error !== undefined && a.headersAt === undefined) event[ATTR_ERROR_TYPE] = errorTypeOf(a.error);
        else if (a.status !== undefined && a.status >= 400) event[ATTR_ERROR_TYPE] = String(a.status);
        queue.addEvent(EVENT_LLM_HTTP_ATTEMPT, event, this.#epoch(attemptAt(a)));
      });
      queue.end(this.#epoch(queueEnd));
      const setupMs = round(setupEnd - start);
      const queueMs = round(queueEnd - setupEnd);
      attrs[ATTR_LLM_CLIENT_SETUP_MS] = setupMs;
      attrs[ATTR_LLM_QUEUE_MS] = queueMs;
      if (ttft && first !== undefined && ttftMs !== undefined) {
        ttft.end(this.#epoch(first));
        attrs[ATTR_LLM_TTFT_MS] = ttftMs;
        attrs[ATTR_LLM_PREFILL_MS] = round(ttftMs - setupMs - queueMs);
        attrs[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttftS;
      }
    }
    attrs[ATTR_LLM_ATTEMPTS] = this.#attempts.length;
    attrs[ATTR_LLM_RETRIES] = Math.max(0, this.#attempts.length - 1);
    let rateLimited = 0;
    for (const a of this.#attempts) if (a.status === 429) rateLimited++;
    attrs[ATTR_LLM_RATE_LIMITED_ATTEMPTS] = rateLimited;

    // Streamed calls: the gaps between consecutive output chunks (attributes and metrics).
    const gaps = info.stream ? gapStats(this.#outputTimes) : undefined;
    if (info.stream) {
      attrs[ATTR_LLM_STREAM_CHUNKS] = this.#outputTimes.length;
      if (gaps) {
        attrs[ATTR_LLM_STREAM_GAP_P50_MS] = round(gaps.p50);
        attrs[ATTR_LLM_STREAM_GAP_P95_MS] = round(gaps.p95);
        attrs[ATTR_LLM_STREAM_GAP_MAX_MS] = round(gaps.max);
      }
      attrs[ATTR_LLM_TOOL_CALL_MS] = 0;
    }
    if (streamedOutput) {
      const decode = tracer.startSpan(SPAN_NAME_LLM_DECODE, { startTime: this.#epoch(first), attributes: readPaced(last) }, callContext);
      const decodeContext = this.#tools.size > 0 ? trace.setSpan(callContext, decode) : callContext;
      let toolMs = 0;
      for (const tool of this.#tools.values()) {
        // A block ends with its last fragment: closing events carry no output and would outlast llm.decode.
        const toolEnd = tool.last;
        const toolSpan = tracer.startSpan(
          `${SPAN_NAME_LLM_TOOL_CALL} ${tool.name}`,
          { startTime: this.#epoch(tool.start), attributes: { [ATTR_GEN_AI_TOOL_NAME]: tool.name, [ATTR_GEN_AI_TOOL_CALL_ID]: tool.id, [ATTR_GEN_AI_TOOL_TYPE]: tool.type } },
          decodeContext,
        );
        toolSpan.end(this.#epoch(toolEnd));
        toolMs += toolEnd - tool.start;
      }
      decode.end(this.#epoch(last));
      const decodeMs = round(last - first);
      attrs[ATTR_LLM_DECODE_MS] = decodeMs;
      attrs[ATTR_LLM_TOOL_CALL_MS] = round(toolMs);
      if (decodeMs > 0 && this.#usage.outputTokens !== undefined) {
        attrs[ATTR_LLM_DECODE_TOKENS_PER_SECOND] = round(this.#usage.outputTokens / (decodeMs / 1000));
      }
    }

    this.#responseAttributes(attrs);
    if (this.#rateLimitHeaders) Object.assign(attrs, rateLimitAttributes(this.#rateLimitHeaders, this.#rateLimitAt));
    if (this.#opts.cacheAttributes && this.#usage.inputTokens !== undefined) {
      try {
        Object.assign(attrs, this.#opts.cacheAttributes(this.#usage, this.#epoch(start), this.#epoch(end), this.#cacheScope));
      } catch (err) {
        diag.debug('llm-prism: cache classification failed', err); // the span still ends
      }
    }

    const { outcome, errorType, message } = this.#outcome(failure);
    attrs[ATTR_LLM_OUTCOME] = outcome;
    if (this.#deadline?.reported) attrs[ATTR_LLM_TTFT_DEADLINE_EXCEEDED] = true;
    if (errorType !== undefined) {
      attrs[ATTR_ERROR_TYPE] = errorType;
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.setAttributes(attrs);
    // A request whose body was not seen names its model by the answer.
    if (!info.model && this.#responseModel) span.updateName(`${info.operation} ${this.#responseModel}`);
    const initial = this.#initialAttributes;
    let attributes: Attributes | undefined;
    const summary: CallSummary = {
      get attributes() {
        return (attributes ??= updated(initial, attrs));
      },
      attribute: (key) => (Object.hasOwn(attrs, key) ? attrs[key] : initial[key]),
      outcome,
      errorType,
      error: failure,
      finishReasons: [...this.#finishReasons],
      durationS: secondsOf(round(end - start)),
      timeToFirstChunkS: ttftS,
      chunkGapsS: gaps ? gaps.gaps.map((g) => secondsOf(round(g))) : new Float64Array(0),
      usage: { ...this.#usage },
    };
    try {
      this.#opts.beforeEnd?.(span, summary);
    } catch (err) {
      diag.debug('llm-prism: response hook failed', err); // the span still ends
    }
    span.end(this.#epoch(end));
    try {
      this.#opts.onEnd?.(summary);
    } catch (err) {
      diag.debug('llm-prism: recording metrics failed', err); // the span has ended already
    }
  }

  /** The answer's attributes, those it carried, added to `attrs`. */
  #responseAttributes(attrs: Attributes): void {
    const u = this.#usage;
    const set = (key: string, value: string | number | undefined): void => {
      if (value !== undefined) attrs[key] = value;
    };
    set(ATTR_GEN_AI_RESPONSE_ID, this.#responseId);
    set(ATTR_GEN_AI_RESPONSE_MODEL, this.#responseModel);
    set(ATTR_GEN_AI_USAGE_INPUT_TOKENS, u.inputTokens);
    set(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, u.outputTokens);
    set(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, u.cacheReadTokens);
    set(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, u.cacheWriteTokens);
    set(ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, u.cacheWriteTokens);
    set(ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, u.reasoningTokens);
    if (this.#finishReasons.length > 0) attrs[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [...this.#finishReasons];
    const messages = this.#opts.captureContent ? this.#outputMessages() : [];
    if (messages.length > 0) attrs[ATTR_GEN_AI_OUTPUT_MESSAGES] = JSON.stringify(messages);
  }

  /**
   * One assistant message per choice of the answer, by choice index, each with its own finish
   * reason; none when no answer arrived (a call that failed before any response).
   */
  #outputMessages(): unknown[] {
    if (!this.#answer && this.#choices.size === 0 && this.#tools.size === 0) return [];
    const indexes = new Set([...this.#choices.keys(), ...[...this.#tools.values()].map((t) => t.choice)]);
    // An answer that said nothing is still one (empty) message.
    if (indexes.size === 0) indexes.add(0);
    return [...indexes].sort((a, b) => a - b).map((index) => {
      const choice = this.#choices.get(index);
      const parts: unknown[] = [];
      if (choice?.reasoning) parts.push({ type: 'reasoning', content: choice.reasoning });
      if (choice?.text) parts.push({ type: 'text', content: choice.text });
      if (choice?.refusal) parts.push({ type: 'refusal', content: choice.refusal });
      for (const tool of this.#tools.values()) {
        if (tool.choice === index) parts.push({ type: 'tool_call', id: tool.id, name: tool.name, arguments: tool.arguments });
      }
      return { role: 'assistant', parts, finish_reason: choice?.finishReason };
    });
  }
}
