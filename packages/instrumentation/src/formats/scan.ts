/**
 * Recognising, without parsing them, the payloads of a stream that are a text fragment and nothing
 * else: most events of a streamed answer, whose only fact is their arrival. The formats' stream
 * decoders parse the first ones (and every event where a fact lives: ids, tool calls, finish,
 * usage, errors); once two parsed payloads were plain fragments of the same shape, later payloads
 * of that shape are recognised by comparing text — so the application's SDK alone pays for
 * parsing every event.
 *
 * The shape of a fragment payload is its text before the fragment (`prefix`: every key and value
 * up to `"content":"`, ids and model included), the fragment (a JSON string), and the text after
 * it, which is the same in every fragment but for the value of its last string when that is a
 * padding key's (OpenAI's random `obfuscation`). A payload matches when it has the same prefix, its fragment string
 * closes, and the rest is the same but for that last string's characters (no quote, no escape):
 * then it has the same keys and values as the parsed one but for the fragment text and that
 * padding, so it carries the same facts. Anything else is parsed.
 */
import type { LlmEvent, SseEvent, StreamDecoder } from '../internal-types.ts';
import { eachDataPayload, singleEventData } from '../sse-whole-events.ts';

/** The events of a payload that carries a text fragment and nothing else (the text is read only by content capture). */
export const OUTPUT: LlmEvent[] = Object.freeze([Object.freeze({ kind: 'output' })]) as LlmEvent[];
export const NOTHING: LlmEvent[] = Object.freeze([]) as unknown as LlmEvent[];

const QUOTE = 0x22;
const EMPTY = Buffer.alloc(0);
const BACKSLASH = 0x5c;
/** Bytes below this are control characters: none may stand raw in a JSON string (and a line break ends an SSE line). */
const SPACE = 0x20;

/**
 * The position of the quote closing the JSON string whose text starts at `from`; -1 when it does
 * not close, or at a control character before it (none stands raw in a JSON string).
 */
function closingQuote(text: string, from: number): number {
  let backslashes = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE && backslashes % 2 === 0) return i;
    if (c < SPACE) return -1;
    backslashes = c === BACKSLASH ? backslashes + 1 : 0;
  }
  return -1;
}

/**
 * closingQuote over bytes [from, end); -1 also at a control character before it (a line break: the
 * payload is not one line, or not JSON). A loop, no native call: fragments are a few bytes.
 */
function closingQuoteIn(bytes: Buffer, from: number, end: number): number {
  let backslashes = 0;
  for (let i = from; i < end; i++) {
    const b = bytes[i]!;
    if (b === QUOTE && backslashes % 2 === 0) return i;
    if (b < SPACE) return -1;
    backslashes = b === BACKSLASH ? backslashes + 1 : 0;
  }
  return -1;
}

/** `part` lies in `bytes` at `at`, within `end`; a few bytes are compared here (a native call costs more). */
function bytesAt(part: Buffer, bytes: Buffer, at: number, end: number): boolean {
  if (at < 0 || at + part.length > end) return false;
  if (part.length > 32) return part.compare(bytes, at, at + part.length) === 0;
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false;
  return true;
}

function countQuotes(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  return n;
}

/** The shape of one stream's fragment payloads, learnt from parsed ones (see above). */
export class FragmentShape {
  /** The key whose string value is the fragment, with its quotes, colon and opening quote: `"content":"`. */
  readonly #marker: string;
  /** Keys whose string value may differ from one fragment to the next (random padding no attribute reads). */
  readonly #padding: ReadonlySet<string>;
  #prefix: string | undefined;
  /** The first learnt payload's text after its fragment. */
  #firstRest: string | undefined;
  /** The part of the text after the fragment every fragment payload shares; known after two payloads. */
  #fixed: string | undefined;
  /** `#fixed` ends inside a string; then `#end` (its closing quote and what follows) ends the payload. */
  #end: string | undefined;
  /** `#prefix`, `#fixed` and `#end` in UTF-8, for `matchBytes`; made once the shape is known. */
  #bytes: { prefix: Buffer; fixed: Buffer; end: Buffer | undefined } | undefined;

  constructor(marker: string, padding: readonly string[] = []) {
    this.#marker = marker;
    this.#padding = new Set(padding);
  }

  /** `true`: a fragment with text; `false`: an empty fragment (no output); undefined: not known to be one, parse it. */
  match(data: string): boolean | undefined {
    const prefix = this.#prefix;
    const fixed = this.#fixed;
    // Compared as slices: `===` of two strings is a memory compare, `startsWith` a loop over characters.
    if (fixed === undefined || prefix === undefined || data.slice(0, prefix.length) !== prefix) return undefined;
    const close = closingQuote(data, prefix.length);
    const varying = close + 1 + fixed.length;
    if (close < 0 || data.slice(close + 1, varying) !== fixed) return undefined;
    const end = this.#end;
    if (end === undefined) return varying === data.length ? close > prefix.length : undefined;
    // The rest of the last string (no quote, no escape, no control character), then the same end.
    const quote = data.length - end.length;
    if (quote < varying || !data.endsWith(end)) return undefined;
    for (let i = varying; i < quote; i++) {
      const c = data.charCodeAt(i);
      if (c === QUOTE || c === BACKSLASH || c < SPACE) return undefined;
    }
    return close > prefix.length;
  }

  /**
   * `match` on the payload's bytes [start, end) of a chunk not decoded (sse-whole-events.ts): the
   * same comparisons on the UTF-8 of what was learnt (a payload whose bytes are not valid UTF-8
   * there cannot equal it, and quotes and backslashes are single bytes).
   */
  matchBytes(bytes: Buffer, start: number, end: number): boolean | undefined {
    if (this.#fixed === undefined || this.#prefix === undefined) return undefined;
    const known = (this.#bytes ??= {
      prefix: Buffer.from(this.#prefix),
      fixed: Buffer.from(this.#fixed),
      end: this.#end === undefined ? undefined : Buffer.from(this.#end),
    });
    const from = start + known.prefix.length;
    if (!bytesAt(known.prefix, bytes, start, end)) return undefined;
    const close = closingQuoteIn(bytes, from, end);
    const varying = close + 1 + known.fixed.length;
    if (close < 0 || !bytesAt(known.fixed, bytes, close + 1, end)) return undefined;
    const last = known.end;
    if (last === undefined) return varying === end ? close > from : undefined;
    // The rest of the last string (no quote, no escape, no control character), then the same end.
    const quote = end - last.length;
    if (quote < varying || !bytesAt(last, bytes, quote, end)) return undefined;
    for (let i = varying; i < quote; i++) if (bytes[i] === QUOTE || bytes[i] === BACKSLASH || bytes[i]! < SPACE) return undefined;
    return close > from;
  }

  /** `data` was parsed and found to be a fragment of text and nothing else (its ids those already known). */
  learn(data: string): void {
    // What is learnt is compared with one data line's bytes (matchBytes): never a line break in it.
    if (/[\r\n]/.test(data)) return;
    const at = data.indexOf(this.#marker);
    if (at < 0 || data.indexOf(this.#marker, at + 1) >= 0) return;
    const start = at + this.#marker.length;
    const close = closingQuote(data, start);
    if (close < 0) return;
    const prefix = data.slice(0, start);
    const rest = data.slice(close + 1);
    if (prefix !== this.#prefix || this.#firstRest === undefined) {
      this.forget();
      this.#prefix = prefix;
      this.#firstRest = rest;
      return;
    }
    if (this.#fixed !== undefined) return;
    const first = this.#firstRest;
    let n = 0;
    while (n < first.length && n < rest.length && first.charCodeAt(n) === rest.charCodeAt(n)) n++;
    const fixed = rest.slice(0, n);
    if (n === rest.length && n === first.length) {
      this.#fixed = fixed;
      return;
    }
    // They differ: only inside one last string value, a padding key's (an odd count of quotes
    // before the difference, no escapes), followed by the same end with no other string.
    if (fixed.includes('\\') || countQuotes(fixed) % 2 === 0) return;
    const key = /"([^"]*)"\s*:\s*"[^"]*$/.exec(fixed)?.[1];
    if (key === undefined || !this.#padding.has(key)) return;
    const quote = rest.indexOf('"', n);
    const end = quote < 0 ? '' : rest.slice(quote);
    if (quote < 0 || end !== first.slice(first.indexOf('"', n)) || end.indexOf('"', 1) >= 0 || rest.slice(n, quote).includes('\\')) return;
    this.#fixed = fixed;
    this.#end = end;
  }

  /** What was learnt no longer holds (the stream's ids changed). */
  forget(): void {
    this.#prefix = this.#firstRest = this.#fixed = this.#end = this.#bytes = undefined;
  }
}

/** The events are one text fragment (of choice 0) and nothing else, but a `responseMeta` that `same` says changes nothing. */
function isPlainFragment(events: readonly LlmEvent[], same: (meta: Extract<LlmEvent, { kind: 'responseMeta' }>) => boolean): boolean {
  let fragments = 0;
  for (const e of events) {
    if (e.kind === 'output' && e.text && !e.refusal && !e.reasoning && (e.choice ?? 0) === 0) fragments++;
    else if (e.kind !== 'responseMeta' || !same(e)) return false;
  }
  return fragments === 1;
}

/**
 * A stream decoder that parses (`parse`) only the events that are not fragments of `shape`,
 * learning the shape from parsed fragments while the response's id and model stay those already
 * seen (a fragment's shape holds them; it is forgotten when they change).
 */
export function fragmentDecoder(parse: (event: SseEvent) => LlmEvent[], shape: FragmentShape): StreamDecoder {
  let id: string | undefined;
  let model: string | undefined;
  const decoder: StreamDecoder = (event) => {
    const text = shape.match(event.data);
    if (text !== undefined) return text ? OUTPUT : NOTHING;
    const events = parse(event);
    if (isPlainFragment(events, (e) => e.id === id && e.model === model)) shape.learn(event.data);
    for (const e of events) {
      if (e.kind !== 'responseMeta' || ((e.id === undefined || e.id === id) && (e.model === undefined || e.model === model))) continue;
      id = e.id ?? id;
      model = e.model ?? model;
      shape.forget();
    }
    return events;
  };
  // A chunk of whole events that are all fragments of the shape: counted on its bytes, never decoded.
  // One payload callback for the stream (it runs once per network chunk: no closure made per chunk),
  // reading the chunk being scanned from `scanned`, which is let go of after the scan.
  let scanned: Buffer = EMPTY;
  let outputs = 0;
  const payload = (start: number, end: number): boolean => {
    const text = shape.matchBytes(scanned, start, end);
    if (text) outputs++;
    return text !== undefined;
  };
  decoder.wholeEvents = (bytes) => {
    // A chunk that is one fragment alone: its payload compared where it lies, the chunk not scanned for lines.
    const data = singleEventData(bytes);
    if (data >= 0) {
      const text = shape.matchBytes(bytes, data, bytes.length - 2);
      if (text !== undefined) return text ? 1 : 0;
    }
    scanned = bytes;
    outputs = 0;
    try {
      return eachDataPayload(bytes, payload) ? outputs : undefined;
    } finally {
      scanned = EMPTY;
    }
  };
  return decoder;
}
