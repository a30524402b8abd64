/**
 * Internal, provider-neutral vocabulary shared by the wire tap, the provider adapters and the
 * recorder. Not part of the package's public API (see types.ts for that).
 */

import type { LlmTokenUsage } from './types.ts';

/** What an adapter learns from the request parameters before anything is sent. */
export interface RequestInfo {
  /** `gen_ai.provider.name` value, e.g. `openai`, `gcp.gemini`. */
  providerName: string;
  /** `gen_ai.operation.name`, e.g. `chat`. */
  operation: string;
  model: string | undefined;
  stream: boolean;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  /** Opt-in content capture: `gen_ai.input.messages` payload, already in semconv shape; set only when capture is on. */
  inputMessages?: unknown[] | undefined;
}

/** Token usage as the adapters decode it (the public shape, see types.ts). */
export type Usage = LlmTokenUsage;

/**
 * Who runs a tool the model called (`gen_ai.tool.type`): `function`, the application (client-side
 * tools: functions, custom tools, local shell, computer use); `extension`, the provider itself
 * (server-side tools: web search, file search, code execution, image generation, remote MCP).
 */
export type ToolType = 'function' | 'extension';

/**
 * One observation decoded from a provider payload. `output` marks a payload that carries
 * model output (text, refusal, reasoning, tool-call name or arguments); the rest are metadata.
 * `choice` is the answer's choice (Chat `choices[].index`, Gemini `candidates[].index`), 0 when
 * the format has one answer only.
 */
export type LlmEvent =
  | { kind: 'output'; text?: string; refusal?: string; reasoning?: string; choice?: number }
  | { kind: 'toolCallStart'; key: string; name: string; id?: string; type: ToolType; choice?: number }
  | { kind: 'toolCallDelta'; key: string; arguments: string }
  /** A tool call's whole arguments as its closing event repeats them: kept when none streamed; not output. */
  | { kind: 'toolCallArguments'; key: string; arguments: string }
  | { kind: 'usage'; usage: Usage }
  | { kind: 'finish'; reason: string; choice?: number }
  /** The provider said the answer is complete (its finish reason, or an event such as `response.completed`). */
  | { kind: 'completed' }
  | { kind: 'responseMeta'; id?: string; model?: string }
  | { kind: 'error'; type: string; message?: string };

/** A parsed server-sent event as the tap hands it to an adapter. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** Decodes one streamed response's events in order (ProviderAdapter.streamDecoder). */
export interface StreamDecoder {
  (event: SseEvent): LlmEvent[];
  /**
   * The number of output events in a network chunk of whole SSE events when every event of it is
   * one whose only fact is its arrival (a text fragment, or an empty one), recognised on its bytes
   * without decoding them (formats/scan.ts); undefined when it cannot tell: the chunk is decoded.
   */
  wholeEvents?(bytes: Buffer): number | undefined;
}

/** Turns one provider's request parameters and response payloads into neutral events. */
export interface ProviderAdapter {
  requestInfo(params: unknown, baseURL: string | undefined): RequestInfo;
  /** Events carried by one SSE event of a streamed response. */
  streamEvents(event: SseEvent): LlmEvent[];
  /**
   * A decoder of one streamed response whose events depend on earlier ones (Gemini's function
   * calls streamed in parts), or that parses only the events where a fact lives (formats/scan.ts:
   * the text of every fragment is needed only when `captureContent` is on); without it each event
   * is decoded by `streamEvents` alone.
   */
  streamDecoder?(captureContent?: boolean): StreamDecoder;
  /** Events carried by a complete (non-streamed) JSON response body. */
  bodyEvents(body: unknown): LlmEvent[];
}

/**
 * A response's headers by lower-case name, repeated headers joined with `, ` (a Map is one; the
 * taps hand over response-reader.ts `RawHeaders`, which decodes only what is asked).
 */
export interface ResponseHeaders {
  get(name: string): string | undefined;
  /** The headers' names, lower-cased, each once. */
  keys(): Iterable<string>;
}

/** Receives what the wire tap sees of one HTTP attempt, with arrival times (`performance.now()`). */
export interface AttemptListener {
  /**
   * The request asked for a stream: a successful answer not labelled JSON is read as server-sent
   * events whatever its content type says (a gateway may drop or rewrite it; the SDKs do not look).
   */
  readonly streamRequested?: boolean;
  headers(status: number, headers: ResponseHeaders, at: number): void;
  /** One server-sent event of an `text/event-stream` body, at the arrival of its last byte. */
  sseEvent(event: SseEvent, at: number): void;
  /**
   * A network chunk of whole events of an `text/event-stream` body, before it is decoded: true when
   * the listener took account of its events from the bytes (StreamDecoder.wholeEvents), and the
   * reader then does not decode it; false: `sseEvent` gets its events as usual.
   */
  sseChunk?(bytes: Buffer, at: number): boolean;
  /** A complete non-SSE body (JSON answers and error bodies); undefined: one that could not be decompressed. */
  body(text: string | undefined, at: number): void;
  /**
   * The request went onto the wire: its headers were written to a connected socket (undici's
   * `sendHeaders`; node:http: the socket's connect or TLS handshake, or its assignment when it was
   * connected already). Not every transport says so.
   */
  sent?(at: number): void;
  /** The body arrived completely. */
  end(at: number): void;
  /** The request failed: connection error, dropped connection or abort. */
  error(error: unknown, at: number): void;
  /**
   * Backpressure: the body chunk that arrived at `at` filled the client's buffer (undici's
   * `onData` or node:http's `push` returned false), so the socket is paused until the application
   * reads; later arrivals are bounded by its reads.
   */
  paused?(at: number): void;
  /** The first body bytes to arrive after a pause (the socket was resumed before `at`). */
  resumed?(at: number): void;
  /** Lets the response reader drop the listener and its own buffers once the call has ended (`release`). */
  onRelease?(release: () => void): void;
  /** `drain` hands on at once the body chunks the response reader holds back (a batch): the call runs it before it ends. */
  onDrain?(drain: () => void): void;
}

/** Where a request goes: its URL (or a client's base URL) and, when known, its headers. */
export interface RequestTarget {
  url: string | URL | undefined;
  /** A request header by lower-case name. */
  header?: (name: string) => string | undefined;
  /** The SDK client is Azure's (openai `AzureOpenAI`), whatever its base URL. */
  azureClient?: boolean;
}

/**
 * The call an HTTP request belongs to; each request the SDK sends in its scope is one attempt.
 * `target` is the request's URL and headers, as the tap saw them when the request was created.
 */
export interface CallListener {
  attempt(at: number, target?: RequestTarget): AttemptListener;
}
