/**
 * Honest under backpressure (issue 12, item 2): once the application leaves enough of a streamed body
 * unread (~64 KiB), the HTTP client pauses the socket, and later "arrivals" are the application's
 * reads. The span says so (`llm.stream.backpressure`, the affected phase `llm.read_paced`), and the
 * phases that ended before the first pause stay exact. A raw server in this file streams with known
 * delays and records when it sent what (same process, same clock): that is the truth.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type OpenAIType from 'openai';
import { describe, expect, it } from 'vitest';
import { now, patchedOpenAI, useHarness, useRawServer } from '../test/contract.ts';
import { expectFaithful } from '../test/sdk-majors-harness.ts';
import { durationMs, endMs, finishedCalls, sleep, TIMING, treeOf, type CallTree } from '../test/harness.ts';

// Wire recognition on: the node:http client below is no SDK.
const h = useHarness({ wireCalls: true });

const QUEUE_MS = 100;
const PREFILL_MS = 200;
/** Pieces of ~10 KiB of output chunks each, PIECE_GAP_MS apart. */
const PIECE_GAP_MS = 10;
const LATE_READ_MS = 2500;

/** One piece of an OpenAI chat stream: ~10 KiB of text chunks. */
function piece(i: number): string {
  const words = 'lorem ipsum dolor sit amet '.repeat(4);
  let out = '';
  for (let j = 0; out.length < 10 * 1024; j++) {
    out += `data: ${JSON.stringify({ id: 'chatcmpl-bp', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content: `${i}.${j} ${words}` }, finish_reason: null }] })}\n\n`;
  }
  return out;
}
const tail = (n: number): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bp', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n` +
  `data: ${JSON.stringify({ id: 'chatcmpl-bp', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n } })}\n\n` +
  'data: [DONE]\n\n';

/** One output event of 1 MiB of text: larger than the stream's buffer on its own. */
const hugeEvent = `data: ${JSON.stringify({ id: 'chatcmpl-bp', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'x'.repeat(1024 * 1024) }, finish_reason: null }] })}\n\n`;

/** When the server sent what (epoch ms, the spans' time base), per request path. */
interface Truth {
  headers: number;
  first: number;
  last: number;
  bytes: number;
}
const truths = new Map<string, Truth>();

const raw = useRawServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    // …big…: 20 pieces (~200 KiB), …small…: 3 pieces (~30 KiB).
    const pieces = /big/.test(req.url ?? '') ? 20 : 3;
    await sleep(QUEUE_MS);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const truth: Truth = { headers: now(), first: 0, last: 0, bytes: 0 };
    await sleep(PREFILL_MS);
    for (let i = 0; i < pieces; i++) {
      if (i > 0) await sleep(PIECE_GAP_MS);
      // …huge-event…: the second piece is one event of 1 MiB (an inline image, a long tool argument).
      const p = i === 1 && /huge-event/.test(req.url ?? '') ? hugeEvent : piece(i);
      res.write(p);
      truth.bytes += p.length;
      if (i === 0) truth.first = now();
      truth.last = now();
    }
    res.end(tail(pieces));
    truths.set(req.url ?? '', truth);
  });
});

async function onlyTree(): Promise<CallTree> {
  const [call] = await finishedCalls(h.exporter, 1, 8000);
  return treeOf(h.exporter, call as ReadableSpan);
}

/** Queue and TTFT ended before any pause: exact, whatever the reader did. */
function expectExactUntilFirstOutput(t: CallTree, truth: Truth): void {
  const start = endMs(t.call) - durationMs(t.call);
  expectFaithful(endMs(t.queue!) - start, truth.headers - start, 'queue');
  expectFaithful(endMs(t.ttft!) - start, truth.first - start, 'ttft');
  expect(t.ttft!.attributes['llm.read_paced']).toBeUndefined();
}

function expectPaced(t: CallTree, truth: Truth): void {
  expectExactUntilFirstOutput(t, truth);
  const a = t.call.attributes;
  expect(a['llm.stream.backpressure']).toBe(true);
  expect(t.decode!.attributes['llm.read_paced']).toBe(true);
  // The first pause came after the first output and before the late read.
  const start = endMs(t.call) - durationMs(t.call);
  expect(a['llm.stream.backpressure_start_ms'] as number).toBeGreaterThanOrEqual(truth.first - start - 30);
  expect(a['llm.stream.backpressure_start_ms'] as number).toBeLessThan(truth.last - start + 30);
  // The pause lasted about as long as the application did not read.
  expect(a['llm.stream.backpressure_ms'] as number).toBeGreaterThan(LATE_READ_MS - 600);
  expect(a['llm.stream.backpressure_ms'] as number).toBeLessThan(LATE_READ_MS + 600);
  // What the decode shows is the application's read pace, not the provider's (flagged, not hidden).
  expect(a['llm.decode_ms'] as number).toBeGreaterThan(truth.last - truth.first + 1000);
  expect(a['llm.outcome']).toBe('success');
}

function expectUnpaced(t: CallTree, truth: Truth): void {
  expectExactUntilFirstOutput(t, truth);
  const a = t.call.attributes;
  expect(a['llm.stream.backpressure']).toBeUndefined();
  expect(a['llm.stream.backpressure_ms']).toBeUndefined();
  expect(t.decode!.attributes['llm.read_paced']).toBeUndefined();
  expectFaithful(a['llm.decode_ms'] as number, truth.last - truth.first, 'decode');
}

describe('undici (the patched openai SDK on fetch), application reads 2.5 s late', () => {
  function client(prefix: string): OpenAIType {
    return patchedOpenAI(h, `${raw.base}${prefix}`, 0);
  }

  async function lateRead(prefix: string): Promise<{ text: string; tree: CallTree; truth: Truth }> {
    const stream = await client(prefix).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    await sleep(LATE_READ_MS);
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    const tree = await onlyTree();
    return { text, tree, truth: truths.get(`${prefix}/chat/completions`)! };
  }

  it('~200 KiB: backpressure said, decode marked read-paced, queue and TTFT exact', TIMING, async () => {
    const { text, tree, truth } = await lateRead('/big-fetch');
    expect(truth.bytes).toBeGreaterThan(190 * 1024);
    expect(text.length).toBeGreaterThan(50_000);
    expectPaced(tree, truth);
  });

  it('~30 KiB: no backpressure, decode exact', TIMING, async () => {
    const { tree, truth } = await lateRead('/small-fetch');
    expectUnpaced(tree, truth);
  });

  it('one event of 1 MiB read at once: it pauses the socket for a moment, which is no backpressure', TIMING, async () => {
    const stream = await client('/huge-event').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(1024 * 1024);
    expectUnpaced(await onlyTree(), truths.get('/huge-event/chat/completions')!);
  });
});

describe('node:http (a plain http.request recognised on the wire), read 2.5 s late', () => {
  function post(path: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${raw.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
  }

  async function lateRead(which: string): Promise<{ text: string; tree: CallTree; truth: Truth }> {
    const path = `/v1/chat/completions?case=${which}`;
    const res = await post(path);
    await sleep(LATE_READ_MS);
    let text = '';
    for await (const chunk of res) text += String(chunk);
    const tree = await onlyTree();
    return { text, tree, truth: truths.get(path)! };
  }

  it('~200 KiB: backpressure said, decode marked read-paced, queue and TTFT exact', TIMING, async () => {
    const { text, tree, truth } = await lateRead('big');
    expect(text).toContain('[DONE]');
    expectPaced(tree, truth);
  });

  it('~30 KiB: no backpressure, decode exact', TIMING, async () => {
    const { tree, truth } = await lateRead('small');
    expectUnpaced(tree, truth);
  });
});
