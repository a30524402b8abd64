/** Helpers the wire formats share to read untyped JSON payloads, request options and SDK clients. */
import { LruMap } from '../cache/lru.ts';
import type { LlmEvent, RequestInfo, SseEvent } from '../internal-types.ts';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** A token count: a whole number ≥ 0 that a double holds exactly. Anything else is not one, and is not made one. */
export const tokens = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
/** Sent but not a token count: a total it is a part of is not known either. */
export const badTokens = (v: unknown): boolean => v !== undefined && v !== null && tokens(v) === undefined;

export function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/** A tool call's arguments as text: a string as sent, anything else as JSON; nothing when absent. */
export function argumentsText(args: unknown): string | undefined {
  if (args === undefined || args === null) return undefined;
  return typeof args === 'string' ? args : JSON.stringify(args);
}

/**
 * An event whose data is not JSON: the SDKs parse every event's data and throw at this one, so the
 * application gets no more of the answer, whatever the body brings after it.
 */
export const INVALID_SSE_EVENT: LlmEvent = { kind: 'error', type: 'invalid_sse_event', message: 'a server-sent event whose data is not JSON' };

/** The events of a server-sent event whose data is one JSON object; other JSON carries none. */
export function jsonSseEvents(event: SseEvent, events: (data: Json) => LlmEvent[]): LlmEvent[] {
  // `[DONE]` ends an OpenAI stream (gateways send it on Responses streams too): the SDK stops there.
  if (event.data === '' || event.data === '[DONE]') return [];
  const data = parseJson(event.data);
  if (data === undefined) return [INVALID_SSE_EVENT];
  return isObject(data) ? events(data) : [];
}

/**
 * What a request says before it is sent: its model and streaming (`stream: true` in the parameters
 * unless the method decides it), and the server of the client's base URL.
 */
export function requestInfo(providerName: string, operation: string, params: unknown, baseURL: string | undefined, stream?: boolean): RequestInfo {
  const p = isObject(params) ? params : {};
  return { providerName, operation, model: str(p.model), stream: stream ?? p.stream === true, ...server(baseURL) };
}

/** URLs parsed from strings, by the strings: a client's base URL and its route are parsed for every call it makes. */
const parsedURLs = new LruMap<string, URL | undefined>(64);

/** A path segment decoded (a model named in the path); as sent when it is no valid percent-encoding. */
export function pathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * `text` parsed as a URL (relative to `base`, if given; undefined if it is none), shared between
 * the callers that parse the same strings: read it, never write to it.
 */
export function parseURL(text: string, base?: string): URL | undefined {
  const key = base === undefined ? text : `${base}\n${text}`;
  if (parsedURLs.has(key)) return parsedURLs.peek(key);
  let url: URL | undefined;
  try {
    url = new URL(text, base);
  } catch {
    url = undefined;
  }
  parsedURLs.set(key, url);
  return url;
}

/** `server.address` / `server.port` from a client's base URL. */
export function server(baseURL: string | undefined): Pick<RequestInfo, 'serverAddress' | 'serverPort'> {
  const url = baseURL ? parseURL(baseURL) : undefined;
  if (!url) return { serverAddress: undefined, serverPort: undefined };
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { serverAddress: url.hostname, serverPort: port };
}

/** Calls `fn` for each object in `list` with its index in `list`; anything else is skipped. */
export function eachRecord(list: unknown, fn: (item: Json, index: number) => void): void {
  if (Array.isArray(list)) list.forEach((item: unknown, i) => isObject(item) && fn(item, i));
}

/** `_client.baseURL` of a Stainless resource (openai 4–7, `@anthropic-ai/sdk` 0.x–1.x). */
export const stainlessBaseURL = (resource: unknown): unknown => (resource as { _client?: { baseURL?: unknown } })._client?.baseURL;
