/**
 * Every call ends its span, whatever its body does (issue 12, item 3): a compressed body without its
 * trailer (which fetch tolerates), a chunked body cut off before its terminating chunk, and streams
 * the application drops unread, of any size; and nothing of an ended call stays reachable.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deflateSync, gzipSync } from 'node:zlib';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type OpenAIType from 'openai';
import { describe, expect, it } from 'vitest';
import { CallRecorder } from './call-recorder.ts';
import { patchedOpenAI, useHarness, useRawServer } from '../test/contract.ts';
import { durationMs, finishedCalls, scenario, sleep } from '../test/harness.ts';

// A real collection, without restarting the worker with --expose-gc (as cache/tracker.memory.test.ts).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const h = useHarness();

/** An OpenAI chat stream: `n` text chunks, then (unless `finish` is false) the finish reason and usage. */
function chatSse(n: number, finish = true): string {
  const chunk = (delta: object, extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-raw', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: null, ...extra }] })}\n\n`;
  let body = chunk({ role: 'assistant', content: '' });
  for (let i = 0; i < n; i++) body += chunk({ content: `word${i} ` });
  if (finish) {
    body += chunk({}, { finish_reason: 'stop' });
    body += `data: ${JSON.stringify({ id: 'chatcmpl-raw', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n } })}\n\n`;
    body += 'data: [DONE]\n\n';
  }
  return body;
}

/** What the raw server answers, by path: the truth each test checks the span against. */
const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
  // gzip / deflate without the trailer (CRC32 + size; Adler-32): chunked, properly terminated.
  '/gzip-sse/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    res.end(gzipSync(chatSse(5)).subarray(0, -8));
  },
  '/deflate-sse/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'deflate' });
    res.end(deflateSync(chatSse(5)).subarray(0, -4));
  },
  '/gzip-json/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const body = { id: 'chatcmpl-raw', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } };
    res.end(gzipSync(JSON.stringify(body)).subarray(0, -8));
  },
  // Garbage after a valid gzip start: the decompressor fails, the call still ends.
  '/gzip-corrupt/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    const z = gzipSync(chatSse(5));
    res.end(Buffer.concat([z.subarray(0, 20), Buffer.alloc(64, 0xff)]));
  },
  // Chunked bodies whose connection closes without the terminating chunk: after the stream's own
  // end (finish reason, usage, [DONE]), and in the middle of the output.
  '/cut-after-done/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chatSse(5));
    setTimeout(() => res.socket?.destroy(), 30);
  },
  '/cut-midway/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chatSse(5, false));
    setTimeout(() => res.socket?.destroy(), 30);
  },
  // Bodies the SDK cannot parse (a gateway mangling them): an event that is not JSON in the middle
  // of a complete stream, a JSON answer cut short, a gzip answer whose data is corrupt.
  '/bad-event/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const [head, ...rest] = chatSse(5).split('\n\n');
    res.end(`${head}\n\ndata: {"id":"chatcmpl-raw","choices":[{\n\n${rest.join('\n\n')}`);
  },
  '/bad-json/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"chatcmpl-raw","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi');
  },
  // A 2xx body the SDK hands over as text (not a JSON content type), and JSON after a byte order mark.
  '/text-body/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('not json');
  },
  '/bom-json/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`\uFEFF${JSON.stringify({ id: 'chatcmpl-raw', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } })}`);
  },
  // Answers the Stainless SDKs read without error (a 204's null, `content-length: 0`'s undefined)
  // and a body they parse and throw on (whitespace).
  '/no-content/chat/completions': (res) => res.writeHead(204).end(),
  '/length-zero/chat/completions': (res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0' }).end(),
  '/whitespace-json/chat/completions': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(' \n'),
  // `@google/genai` reads every answer with `response.json()`: each of these fails it.
  '/no-content/v1/models/gemini-2.5-flash:generateContent': (res) => res.writeHead(204).end(),
  '/text-body/v1/models/gemini-2.5-flash:generateContent': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('not json'),
  '/gzip-json-corrupt/chat/completions': (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.end(Buffer.concat([gzipSync('{"id":"chatcmpl-raw"}').subarray(0, 20), Buffer.alloc(64, 0xff)]));
  },
};

const raw = useRawServer((req, res) => {
  req.resume();
  req.on('end', () => (routes[(req.url ?? '').split('?')[0]!] ?? ((r) => r.writeHead(404).end()))(res));
});

/** A patched client against one route of the raw server. */
const rawClient = (prefix: string): OpenAIType => patchedOpenAI(h, `${raw.base}${prefix}`, 0);

const messages = [{ role: 'user' as const, content: 'hi' }];

async function streamed(prefix: string): Promise<{ text: string; error?: unknown; call: ReadableSpan }> {
  let text = '';
  let error: unknown;
  try {
    const stream = await rawClient(prefix).chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  } catch (err) {
    error = err;
  }
  const [call] = await finishedCalls(h.exporter, 1, 3000);
  return { text, error, call: call! };
}

describe('a compressed body without its trailer', () => {
  it('gzip SSE: the application succeeds, and so does the span, with what arrived', async () => {
    const { text, error, call } = await streamed('/gzip-sse');
    expect(error).toBeUndefined();
    expect(text).toBe('word0 word1 word2 word3 word4 ');
    expect(call.attributes).toMatchObject({ 'llm.outcome': 'success', 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.output_tokens': 5, 'llm.stream.chunks': 5 });
  });

  it('deflate SSE: the same', async () => {
    const { error, call } = await streamed('/deflate-sse');
    expect(error).toBeUndefined();
    expect(call.attributes).toMatchObject({ 'llm.outcome': 'success', 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.output_tokens': 5 });
  });

  it('gzip JSON: the span ends with the body that arrived', async () => {
    const completion = await rawClient('/gzip-json').chat.completions.create({ model: 'gpt-4o', messages });
    expect(completion.choices[0]!.message.content).toBe('hi');
    const [call] = await finishedCalls(h.exporter, 1, 3000);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'success', 'gen_ai.usage.output_tokens': 1, 'gen_ai.response.id': 'chatcmpl-raw' });
  });

  it('a corrupt gzip body never loses the call', async () => {
    const { call } = await streamed('/gzip-corrupt');
    expect(call.attributes['llm.outcome']).toBe('error');
  });
});

describe('a body the SDK cannot parse (the application gets an error): an error, not a success', () => {
  it('a stream with an event that is not JSON: the SDK throws there, the span says invalid_sse_event', async () => {
    const { error, call } = await streamed('/bad-event');
    expect(error).toBeInstanceOf(Error);
    expect(call.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'invalid_sse_event' });
  });

  for (const [route, what] of [['/bad-json', 'cut short'], ['/gzip-json-corrupt', 'gzip whose data is corrupt']] as const) {
    it(`a JSON answer ${what}: the SDK throws, the span says invalid_response`, async () => {
      const error = await rawClient(route).chat.completions.create({ model: 'gpt-4o', messages }).then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(Error);
      const [call] = await finishedCalls(h.exporter, 1, 3000);
      expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'invalid_response' });
    });
  }
});

describe("whether a body fails the call is the client's reading of it", () => {
  const outcome = async () => {
    const [call] = await finishedCalls(h.exporter, 1, 3000);
    h.exporter.reset();
    return [call!.attributes['llm.outcome'], call!.attributes['error.type']];
  };
  const settled = (p: Promise<unknown>): Promise<{ value?: unknown; error?: unknown }> => p.then((value) => ({ value }), (error: unknown) => ({ error }));

  it('openai: a 204 is a null answer and `content-length: 0` an undefined one; a JSON body of whitespace throws', async () => {
    const create = (route: string) => settled(rawClient(route).chat.completions.create({ model: 'gpt-4o', messages }));
    expect(await create('/no-content')).toEqual({ value: null });
    expect(await outcome()).toEqual(['success', undefined]);
    expect(await create('/length-zero')).toEqual({ value: undefined });
    expect(await outcome()).toEqual(['success', undefined]);
    expect((await create('/whitespace-json')).error).toBeInstanceOf(SyntaxError);
    expect(await outcome()).toEqual(['error', 'invalid_response']);
  });

  it('@google/genai parses every answer: a 204 and a text body fail it', async () => {
    for (const route of ['/no-content', '/text-body']) {
      const Gemini = h.gemini.constructor as new (options: object) => typeof h.gemini;
      const gemini = new Gemini({ apiKey: 'test-key', httpOptions: { baseUrl: `${raw.base}${route}` } });
      expect((await settled(gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }))).error).toBeInstanceOf(SyntaxError);
      expect(await outcome()).toEqual(['error', 'invalid_response']);
    }
  });
});

describe('a body the SDK reads without error is no error', () => {
  it('a 2xx body of another content type (the SDK returns it as text), and JSON after a byte order mark', async () => {
    const text = await rawClient('/text-body').chat.completions.create({ model: 'gpt-4o', messages });
    expect(text).toBe('not json');
    const [plain] = await finishedCalls(h.exporter, 1, 3000);
    expect(plain!.attributes['llm.outcome']).toBe('success');
    h.exporter.reset();
    const completion = await rawClient('/bom-json').chat.completions.create({ model: 'gpt-4o', messages });
    expect(completion.choices[0]!.message.content).toBe('hi');
    const [bom] = await finishedCalls(h.exporter, 1, 3000);
    expect(bom!.attributes).toMatchObject({ 'llm.outcome': 'success', 'gen_ai.usage.output_tokens': 1 });
  });
});

describe('a chunked body cut off before its terminating chunk', () => {
  it('after the stream said it was complete: the events decide (success)', async () => {
    const { text, call } = await streamed('/cut-after-done');
    expect(text).toBe('word0 word1 word2 word3 word4 ');
    expect(call.attributes).toMatchObject({ 'llm.outcome': 'success', 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.output_tokens': 5 });
  });

  it('in the middle of the output: error', async () => {
    const { error, call } = await streamed('/cut-midway');
    expect(error).toBeDefined();
    expect(call.attributes['llm.outcome']).toBe('error');
    expect(call.attributes['llm.stream.chunks']).toBe(5);
  });
});

describe('abandoned streams', () => {
  /** Collects until the call span ends (or `ms` pass); the moment it was first seen. */
  async function collectUntilEnded(ms: number): Promise<{ call: ReadableSpan | undefined; seenAt: number }> {
    const deadline = performance.now() + ms;
    let call: ReadableSpan | undefined;
    while (call === undefined && performance.now() < deadline) {
      gc();
      await sleep(20);
      call = h.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT);
    }
    return { call, seenAt: performance.now() };
  }

  it('a stream the SDK let go of while its body still arrives ends when the body does, whole', async () => {
    h.exporter.reset();
    const INTERVAL = 20;
    // Small chunks never fill undici's buffer: the body arrives whole though nothing reads it.
    await (async () => {
      const stream = await h.client.chat.completions.create(
        { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
        scenario({ chunks: 60, chunkIntervalMs: INTERVAL, prefillMs: 0 }),
      );
      const chunks = stream[Symbol.asyncIterator]();
      await chunks.next();
      await chunks.next();
    })();
    const { call } = await collectUntilEnded(10_000);
    expect(call?.attributes['llm.outcome']).toBe('success');
    expect(call?.attributes['llm.stream.chunks']).toBe(60);
    expect(call?.attributes['gen_ai.usage.output_tokens']).toBe(60);
    expect(durationMs(call!)).toBeGreaterThanOrEqual(59 * INTERVAL * 0.8);
  });

  it('an application reading asResponse().body itself after the Response is collected gets the whole call', async () => {
    h.exporter.reset();
    const reader = await (async () => {
      const response = await h.client.chat.completions
        .create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }, scenario({ chunks: 20, chunkIntervalMs: 25, prefillMs: 0 }))
        .asResponse();
      return response.body!.getReader(); // the Response itself is dropped
    })();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      gc(); // the Response is collected while the body is read
    }
    expect(bytes).toBeGreaterThan(0);
    const [call] = await finishedCalls(h.exporter);
    expect(call?.attributes['llm.outcome']).toBe('success');
    expect(call?.attributes['llm.stream.chunks']).toBe(20);
    expect(call?.attributes['gen_ai.usage.output_tokens']).toBe(20);
  });

  it('a dropped body nobody reads ends as aborted once its socket stayed paused, at its last arrival', async () => {
    h.exporter.reset();
    await (async () => {
      const stream = await h.client.chat.completions.create(
        { model: 'gpt-4o', messages, stream: true },
        scenario({ chunks: 40, tokensPerChunk: 400, chunkIntervalMs: 0, prefillMs: 0 }), // ≈ 160 KiB of SSE
      );
      await stream[Symbol.asyncIterator]().next();
    })();
    const droppedAt = performance.now();
    const { call, seenAt } = await collectUntilEnded(20_000);
    expect(call?.attributes['llm.outcome']).toBe('aborted');
    expect(call?.attributes['llm.stream.chunks']).toBeLessThan(40);
    // Given up only after the pause lasted (5 s), yet ended where the bytes stopped arriving.
    expect(seenAt - droppedAt).toBeGreaterThanOrEqual(4_000);
    expect(durationMs(call!)).toBeLessThan(3_000);
  });

  it('5 000 calls, half dropped unread (a quarter over 64 KiB): every span ends, the dropped large ones as aborted, no recorder stays reachable', async () => {
    h.exporter.reset();
    // Counted by a FinalizationRegistry: a WeakRef's deref() would keep its target for the job.
    let recorders = 0;
    let collected = 0;
    const collection = new FinalizationRegistry<undefined>(() => collected++);
    const seen = new WeakSet<CallRecorder>();
    const attempt = CallRecorder.prototype.attempt;
    CallRecorder.prototype.attempt = function (this: CallRecorder, ...args: Parameters<typeof attempt>) {
      if (!seen.has(this)) {
        seen.add(this);
        recorders++;
        collection.register(this, undefined);
      }
      return attempt.apply(this, args);
    };
    const BIG = { chunks: 40, tokensPerChunk: 400, chunkIntervalMs: 0, prefillMs: 0 }; // ≈ 160 KiB of SSE
    const SMALL = { chunks: 3, chunkIntervalMs: 0, prefillMs: 0 };
    try {
      const N = 5000;
      const CONCURRENCY = 100;
      for (let b = 0; b < N; b += CONCURRENCY) {
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async (_, j) => {
            const i = b + j;
            // Odd calls are dropped: half of them large, half of those after one chunk was read.
            const kind = i % 2 === 0 ? 'read' : i % 4 === 1 ? 'big' : 'small';
            const stream = await h.client.chat.completions.create(
              { model: 'gpt-4o', messages, stream: true },
              scenario(kind === 'big' ? BIG : SMALL),
            );
            if (kind === 'read') {
              for await (const c of stream) void c;
            } else if (i % 8 < 4) {
              await stream[Symbol.asyncIterator]().next();
            }
          }),
        );
      }
    } finally {
      CallRecorder.prototype.attempt = attempt;
    }

    // The dropped large ones end once their sockets stayed paused for 5 s (call-recorder.ts).
    const deadline = performance.now() + 20_000;
    let calls: ReadableSpan[] = [];
    let alive = recorders;
    while (performance.now() < deadline) {
      gc();
      await sleep(20);
      calls = h.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
      alive = recorders - collected;
      if (calls.length === 5000 && alive === 0) break;
    }
    const outcomes: Record<string, number> = {};
    for (const s of calls) outcomes[String(s.attributes['llm.outcome'])] = (outcomes[String(s.attributes['llm.outcome'])] ?? 0) + 1;
    console.log(`recorders ${recorders}, reachable after gc ${alive}, call spans ended ${calls.length}`, outcomes);
    expect(recorders).toBe(5000);
    expect(calls.length).toBe(5000);
    expect(alive).toBe(0);
    const count = (o: string) => calls.filter((s) => s.attributes['llm.outcome'] === o).length;
    // Read to the end (2 500): success; large dropped streams never arrive whole (undici pauses the
    // socket): aborted when the SDK lets go (1 250). A small dropped stream is a success when its
    // three chunks arrived before the SDK let go — nearly always, but on a loaded machine a few
    // are let go first and are rightly aborted.
    expect(count('success') + count('aborted')).toBe(5000);
    expect(count('success')).toBeGreaterThanOrEqual(2500);
    expect(count('aborted')).toBeGreaterThanOrEqual(1250);
    expect(count('aborted')).toBeLessThanOrEqual(1250 + 1250 / 10);
  });
});
