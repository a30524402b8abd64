import { readdirSync, readFileSync } from 'node:fs';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { createParser } from 'eventsource-parser';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it, vi } from 'vitest';
import { CallRecorder } from './call-recorder.ts';
import { anthropicMessages } from './formats/anthropic/adapter.ts';
import type { Api } from './formats/format.ts';
import { geminiStreamGenerateContent } from './formats/gemini/adapters.ts';
import { openaiChat, openaiResponses } from './formats/openai/adapters.ts';
import type { AttemptListener } from './internal-types.ts';
import { ResponseReader } from './response-reader.ts';
import { eachDataPayload, endsWithBlankLine, singleEventData, wholeEvents } from './sse-whole-events.ts';
import { eventPieces } from '../test/sse-pieces.ts';

const payloads = (text: string): string[] | undefined => {
  const bytes = Buffer.from(text);
  const found: string[] = [];
  return eachDataPayload(bytes, (start, end) => found.push(bytes.subarray(start, end).toString()) > 0) ? found : undefined;
};

describe('eachDataPayload', () => {
  it('finds the data of each whole event, with or without an event line, LF or CRLF', () => {
    expect(payloads('data: {"a":1}\n\ndata:{"b":2}\n\n')).toEqual(['{"a":1}', '{"b":2}']);
    expect(payloads('event: content_block_delta\ndata: {"ü":"日本"}\n\n')).toEqual(['{"ü":"日本"}']);
    expect(payloads('data: {"a":1}\r\n\r\nevent: x\r\ndata: [DONE]\r\n\r\n')).toEqual(['{"a":1}', '[DONE]']);
  });

  it('leaves to the SSE parser every chunk that is not plain whole events', () => {
    expect(payloads('data: {"a":1}\n')).toBeUndefined(); // the event does not end here
    expect(payloads('data: {"a":1}\n\ndata: {"b"')).toBeUndefined();
    expect(payloads('data: a\ndata: b\n\n')).toBeUndefined(); // several data lines
    expect(payloads(': comment\ndata: a\n\n')).toBeUndefined();
    expect(payloads('id: 7\ndata: a\n\n')).toBeUndefined();
    expect(payloads('event: ping\n\n')).toBeUndefined(); // no data
    expect(payloads('data: a\r\n\ndata: b\n\n')).toBeUndefined(); // mixed line breaks
    expect(payloads('data: a\rdata: b\r\n\r\n')).toBeUndefined(); // a lone CR is a line break
    expect(payloads('data: a\ndata: b\r\n\r\n')).toBeUndefined();
  });

  it('finds where the data of a chunk of one event begins', () => {
    const at = (text: string) => singleEventData(Buffer.from(text));
    expect(at('data: {"a":1}\n\n')).toBe(6);
    expect(at('data:{"a":1}\n\n')).toBe(5);
    expect(at('event: content_block_delta\ndata: {"a":1}\n\n')).toBe('event: content_block_delta\ndata: '.length);
    expect(at('data: \n\n')).toBe(6); // empty data: the caller's comparison says no
    for (const text of ['data: a\r\n\r\n', 'data: a\n', 'event: x\n\n', 'event: x\rdata: a\n\n', ': c\ndata: a\n\n', 'id: 1\ndata: a\n\n', 'event: x\nevent: y\ndata: a\n\n']) {
      expect(at(text), JSON.stringify(text)).toBe(-1);
    }
  });

  it('says when a chunk ends an event', () => {
    expect(endsWithBlankLine(Buffer.from('data: a\n\n'))).toBe(true);
    expect(endsWithBlankLine(Buffer.from('data: a\r\n\r\n'))).toBe(true);
    expect(endsWithBlankLine(Buffer.from('data: a\n'))).toBe(false);
    expect(endsWithBlankLine(Buffer.from('\n'))).toBe(false);
    expect(endsWithBlankLine(Buffer.from('data: a\r\n\n'))).toBe(true); // CRLF, then an empty line
    expect(endsWithBlankLine(Buffer.from('data: a\n\r\n'))).toBe(false); // so is this, but rare: left to the parser
  });
});

/** The events the SSE parser reads from `bytes` fed alone (as the response reader hands them on). */
function parsed(bytes: Buffer): Array<{ event: string | undefined; data: string }> {
  const events: Array<{ event: string | undefined; data: string }> = [];
  createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) }).feed(new TextDecoder().decode(bytes));
  return events;
}

describe('wholeEvents', () => {
  it('reads the events of a chunk of short whole events as the SSE parser does', () => {
    for (const text of [
      'data: {"a":1}\n\ndata:{"b":2}\n\n',
      'event: content_block_delta\ndata: {"ü":"日本"}\n\n',
      'event:\ndata: x\n\n', // an empty name is none
      'event:ping\nevent: pong\ndata: y\n\n', // the last name counts
      'data: a\r\n\r\nevent: x\r\ndata: [DONE]\r\n\r\n',
      'data:\n\n',
    ]) {
      const bytes = Buffer.from(text);
      expect(wholeEvents(bytes, 1024), text).toEqual(parsed(bytes));
    }
  });

  it('leaves a chunk with a line longer than the limit (maybe bulk) to the parser, and what eachDataPayload leaves', () => {
    expect(wholeEvents(Buffer.from(`data: {"data":"${'A'.repeat(1100)}"}\n\n`), 1024)).toBeUndefined();
    expect(wholeEvents(Buffer.from(`event: ${'e'.repeat(1100)}\ndata: 1\n\n`), 1024)).toBeUndefined();
    expect(wholeEvents(Buffer.from(`data: ${'A'.repeat(1000)}\n\n`), 1024)).toHaveLength(1);
    expect(wholeEvents(Buffer.from('data: a\ndata: b\n\n'), 1024)).toBeUndefined();
    expect(wholeEvents(Buffer.from('data: {"a":1}\n'), 1024)).toBeUndefined();
  });

  it('agrees with the parser on every recorded stream, an event or two a chunk, LF or CRLF', () => {
    let read = 0;
    for (const s of [...recordedStreams(), longChat()]) {
      for (const crlf of [false, true]) {
        const body = crlf ? Buffer.from(s.body.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') : s.body;
        for (const [how, chunks] of chunkings(body).slice(0, 2)) {
          for (const chunk of chunks) {
            const events = wholeEvents(chunk, 1024);
            if (events) read++;
            if (events) expect(events, `${s.name} ${how}`).toEqual(parsed(chunk));
          }
        }
      }
    }
    expect(read).toBeGreaterThan(500);
  });
});

const RECORDINGS = new URL('../test/recordings/', import.meta.url);
const APIS: Record<string, Api> = {
  'openai.chat': openaiChat,
  'openai.responses': openaiResponses,
  'anthropic.messages': anthropicMessages,
  'gemini.generateContentStream': geminiStreamGenerateContent,
};

interface Stream {
  name: string;
  api: Api;
  params: Record<string, unknown>;
  body: Buffer;
}

function recordedStreams(): Stream[] {
  const streams: Stream[] = [];
  for (const dir of readdirSync(RECORDINGS, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(new URL(`${dir.name}/`, RECORDINGS)).filter((f) => f.endsWith('.body.sse'))) {
      const at = (suffix: string) => new URL(`${dir.name}/${file.replace('.body.sse', suffix)}`, RECORDINGS);
      const { call } = JSON.parse(readFileSync(at('.expect.json'), 'utf8')) as { call: { sdk: string; params: Record<string, unknown> } };
      const api = APIS[call.sdk];
      if (api) streams.push({ name: `${dir.name}/${file}`, api, params: call.params, body: readFileSync(at('.body.sse')) });
    }
  }
  return streams;
}

/** A long OpenAI Chat stream: fragments with quotes, escapes and multi-byte text, a tool call and usage at the end. */
function longChat(): Stream {
  const head = '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":';
  const tail = (finish = 'null', usage = 'null', pad = 'ab') => `,"logprobs":null,"finish_reason":${finish}}],"usage":${usage},"obfuscation":"${pad}"}`;
  const events = [`${head}{"role":"assistant","content":""}${tail()}`];
  for (let i = 0; i < 60; i++) events.push(`${head}{"content":${JSON.stringify(`tök ${i} "日本" \\ ${'é'.repeat(i % 5)}`)}}${tail('null', 'null', 'p'.repeat(i % 9))}`);
  events.push(`${head}{"content":""}${tail()}`);
  events.push(`${head}{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"weather","arguments":""}}]}${tail()}`);
  for (let i = 0; i < 5; i++) events.push(`${head}{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":${i}"}}]}${tail()}`);
  events.push(`${head}{}${tail('"tool_calls"')}`);
  events.push(`{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":70,"total_tokens":79}}`);
  events.push('[DONE]');
  return { name: 'long openai chat', api: openaiChat, params: { model: 'gpt-4o', stream: true, messages: [] }, body: Buffer.from(events.map((e) => `data: ${e}\n\n`).join('')) };
}


/** Network chunkings of one body: an event each, two events each, and splits anywhere (inside markers and UTF-8 characters). */
function chunkings(body: Buffer): Array<[string, Buffer[]]> {
  const events = eventPieces(body);
  const pairs = events.flatMap((e, i) => (i % 2 === 1 ? [] : [Buffer.concat(events.slice(i, i + 2))]));
  const sized = (size: (i: number) => number) => {
    const pieces: Buffer[] = [];
    for (let from = 0, i = 0; from < body.length; i++) pieces.push(body.subarray(from, (from += size(i))));
    return pieces;
  };
  // Whole events, but now and then one cut in two.
  const someCut = events.flatMap((e, i) => (i % 5 === 3 ? [e.subarray(0, e.length >> 1), e.subarray(e.length >> 1)] : [e]));
  return [
    ['an event a chunk', events],
    ['two events a chunk', pairs],
    ['some events cut', someCut],
    ['7 bytes a chunk', sized(() => 7)],
    ['varying sizes', sized((i) => 1 + ((i * 37) % 211))],
  ];
}

/** The spans of one call whose body arrives in `chunks`, chunk i at ms 10 + i; `wholeChunks` false: every chunk decoded. */
function spansOf(s: Stream, chunks: Buffer[], wholeChunks: boolean): { spans: unknown[]; taken: number } {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('t');
  const recorder = new CallRecorder({ tracer, adapter: s.api, info: s.api.requestInfo(s.params, 'https://api.example.com/v1'), parentContext: ROOT_CONTEXT, captureContent: false, startTime: 1 });
  const listener = recorder.attempt(2, { url: new URL('https://api.example.com/v1/chat/completions'), header: () => undefined });
  let taken = 0;
  const { sseChunk, ...rest } = listener;
  const tapped: AttemptListener = wholeChunks
    ? { ...rest, sseChunk: (bytes, at) => (sseChunk!(bytes, at) ? ++taken > 0 : false) }
    : rest;
  const reader = new ResponseReader(tapped);
  reader.sent(3);
  reader.headers(200, new Map([['content-type', 'text/event-stream']]), 5);
  chunks.forEach((chunk, i) => reader.chunk(chunk, 10 + i));
  reader.end(10 + chunks.length);
  const spans = exporter.getFinishedSpans().map((span: ReadableSpan) => ({ name: span.name, start: span.startTime, end: span.endTime, attributes: span.attributes, events: span.events }));
  return { spans, taken };
}

/** `llm.stream.chunks` and `llm.decode_ms` of a call whose body stops after `chunks` (chunk i at ms 10 + i), failing or dropped. */
function cutShort(s: Stream, chunks: Buffer[], wholeChunks: boolean, how: 'fails' | 'dropped'): unknown {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('t');
  const recorder = new CallRecorder({ tracer, adapter: s.api, info: s.api.requestInfo(s.params, 'https://api.example.com/v1'), parentContext: ROOT_CONTEXT, captureContent: false, startTime: 1 });
  const { sseChunk, ...rest } = recorder.attempt(2, { url: new URL('https://api.example.com/v1/chat/completions'), header: () => undefined });
  const reader = new ResponseReader(wholeChunks ? { ...rest, sseChunk } : rest);
  reader.headers(200, new Map([['content-type', 'text/event-stream']]), 5);
  chunks.forEach((chunk, i) => reader.chunk(chunk, 10 + i));
  if (how === 'fails') reader.error(new Error('socket hang up'), 10 + chunks.length);
  else {
    // Dropped: the last chunk filled the buffer (nothing reads it), the SDK let go, and the socket
    // stayed paused (call-recorder.ts ABANDONED_PAUSE_MS, 5 s).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      reader.paused(10 + chunks.length - 1);
      recorder.abandoned();
      vi.advanceTimersByTime(10_000);
    } finally {
      vi.useRealTimers();
    }
  }
  const call = exporter.getFinishedSpans().find((span) => 'llm.stream.chunks' in span.attributes);
  return { chunks: call?.attributes['llm.stream.chunks'], decode: call?.attributes['llm.decode_ms'], end: call?.endTime };
}

describe('chunks of whole events counted on their bytes', () => {
  it('counts the chunks held back in a batch when the body fails or the application drops it', () => {
    const s = longChat();
    const chunks = eventPieces(s.body).slice(0, 50); // the shape learnt, then fragments, cut short
    for (const how of ['fails', 'dropped'] as const) {
      const decoded = cutShort(s, chunks, false, how);
      expect(decoded, how).toMatchObject({ chunks: 49, decode: 48 }); // the role event is no output
      expect(cutShort(s, chunks, true, how), how).toEqual(decoded);
    }
  });

  for (const s of [...recordedStreams(), longChat()]) {
    for (const crlf of [false, true]) {
      const body = crlf ? Buffer.from(s.body.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') : s.body;
      it(`${s.name}${crlf ? ' (CRLF)' : ''}: the same spans as decoding every chunk, however the body is cut`, () => {
        for (const [how, chunks] of chunkings(body)) {
          const decoded = spansOf(s, chunks, false);
          const counted = spansOf(s, chunks, true);
          expect(counted.spans, how).toEqual(decoded.spans);
        }
      });
    }
  }

  it('most chunks of a long text stream are not decoded', () => {
    const s = longChat();
    const chunks = eventPieces(s.body);
    const { taken, spans } = spansOf(s, chunks, true);
    // Two fragments teach the shape; the other 58 text events (and the empty one) are counted.
    expect(taken).toBe(59);
    const call = (spans as Array<{ attributes: Record<string, unknown> }>).find((span) => 'llm.stream.chunks' in span.attributes);
    expect(call?.attributes['llm.stream.chunks']).toBe(66); // 60 text fragments, the tool call's start and its 5 deltas; the empty ones are no output
    const crlf = spansOf(s, eventPieces(Buffer.from(s.body.toString().replace(/\n/g, '\r\n'))), true);
    expect(crlf.taken).toBe(59);
  });
});
