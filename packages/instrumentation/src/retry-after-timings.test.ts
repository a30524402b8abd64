/**
 * `llm.retry_after_s` from `retry-after-ms` (OpenAI) and `retry-after`, and the call's timing
 * attributes rounded to the microsecond and exactly consistent with each other (issue 12, minor).
 * A raw `node:http` server sends the headers the simulator does not (`retry-after-ms`).
 */
import type { Attributes } from '@opentelemetry/api';
import type OpenAIType from 'openai';
import { describe, expect, it } from 'vitest';
import { chatMessages, patchedOpenAI, useHarness, useRawServer } from '../test/contract.ts';
import { TIMING, durationMs, finishedCalls, scenario, treeOf } from '../test/harness.ts';

const h = useHarness();
const messages = chatMessages();

const SSE =
  ['', 'Hello', ' there']
    .map((content, i) => `data: ${JSON.stringify({ id: 'chatcmpl-ra', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content } : { content }, finish_reason: null }] })}\n\n`)
    .join('') + 'data: [DONE]\n\n';

/** Per route: the headers of the first answer (a 429); later attempts get a streamed 200. */
const RATE_LIMITED: Record<string, Record<string, string>> = {
  // Both sent: retry-after-ms wins (a 5 s retry-after would make the SDK wait 5 s).
  '/both/chat/completions': { 'retry-after-ms': '150', 'retry-after': '5' },
  '/ms-only/chat/completions': { 'retry-after-ms': '80' },
  // Not a number: retry-after decides.
  '/ms-invalid/chat/completions': { 'retry-after-ms': 'soon', 'retry-after': '0.1' },
};
const seen = new Map<string, number>();

const raw = useRawServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const route = req.url ?? '';
    const headers = RATE_LIMITED[route];
    if (!headers) return void res.writeHead(404).end();
    const n = (seen.get(route) ?? 0) + 1;
    seen.set(route, n);
    if (n === 1) {
      res.writeHead(429, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(SSE);
  });
});

/** A patched client against one route of the raw server. */
const rawClient = (prefix: string): OpenAIType => patchedOpenAI(h, `${raw.base}${prefix}`, 2);

async function rateLimitedCall(prefix: string): Promise<{ events: Attributes[]; queueMs: number; text: string }> {
  let text = '';
  const stream = await rawClient(prefix).chat.completions.create({ model: 'gpt-4o', messages, stream: true });
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  const [call] = await finishedCalls(h.exporter);
  const t = treeOf(h.exporter, call!);
  return { events: t.queue!.events.map((e) => e.attributes ?? {}), queueMs: durationMs(t.queue!), text };
}

describe('llm.retry_after_s', () => {
  it('reads retry-after-ms (in seconds) and prefers it to retry-after', TIMING, async () => {
    const { events, queueMs, text } = await rateLimitedCall('/both');
    expect(text).toBe('Hello there');
    expect(events).toEqual([
      { 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.15, 'error.type': '429' },
      { 'llm.attempt': 2, 'http.response.status_code': 200 },
    ]);
    // The SDK waited as retry-after-ms said, not the 5 s of retry-after.
    expect(queueMs).toBeGreaterThanOrEqual(145);
    expect(queueMs).toBeLessThan(2000);
  });

  it('reads retry-after-ms alone', async () => {
    const { events } = await rateLimitedCall('/ms-only');
    expect(events[0]).toEqual({ 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.08, 'error.type': '429' });
  });

  it('falls back to retry-after when retry-after-ms is not a number', async () => {
    const { events } = await rateLimitedCall('/ms-invalid');
    expect(events[0]).toEqual({ 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.1, 'error.type': '429' });
  });

  it('reads retry-after from the simulator', async () => {
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario({ httpErrors: { status: 429, count: 1, retryAfterS: 0.25 }, chunks: 2 }));
    for await (const _ of stream);
    const [call] = await finishedCalls(h.exporter);
    expect(treeOf(h.exporter, call!).queue!.events.map((e) => e.attributes)).toEqual([
      { 'llm.attempt': 1, 'http.response.status_code': 429, 'llm.retry_after_s': 0.25, 'error.type': '429' },
      { 'llm.attempt': 2, 'http.response.status_code': 200 },
    ]);
  });
});

/** Digits after the decimal point, as printed. */
const decimalsOf = (n: number): number => (String(n).split('.')[1] ?? '').length;

describe('timing attributes', () => {
  it('are rounded to the microsecond and agree exactly with each other', TIMING, async () => {
    for (let i = 0; i < 5; i++) {
      h.exporter.reset();
      const stream = await h.client.chat.completions.create(
        { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
        scenario({ queueMs: 30, prefillMs: 40, chunks: 6, chunkIntervalMs: 7, tokensPerChunk: 3 }),
      );
      for await (const _ of stream);
      const [call] = await finishedCalls(h.exporter);
      const a = call!.attributes;
      const ms = ['llm.client_setup_ms', 'llm.queue_ms', 'llm.ttft_ms', 'llm.prefill_ms', 'llm.decode_ms', 'llm.tool_call_ms', 'llm.stream.gap_p50_ms', 'llm.stream.gap_p95_ms', 'llm.stream.gap_max_ms'];
      for (const key of ms) {
        expect(typeof a[key], key).toBe('number');
        expect(decimalsOf(a[key] as number), `${key}=${a[key]}`).toBeLessThanOrEqual(3);
      }
      const ttftMs = a['llm.ttft_ms'] as number;
      const ttftS = a['gen_ai.response.time_to_first_chunk'] as number;
      expect(decimalsOf(ttftS), `time_to_first_chunk=${ttftS}`).toBeLessThanOrEqual(6);
      // Exactly ttft_ms / 1000 to the microsecond, and the decimal of it.
      expect(ttftS).toBe(Math.round(ttftMs * 1000) / 1_000_000);
      expect(String(ttftS)).toBe(String(Math.round(ttftMs * 1000) / 1_000_000));
      // prefill = ttft − client set-up − queue, exactly (in whole microseconds).
      const setupMs = a['llm.client_setup_ms'] as number;
      const queueMs = a['llm.queue_ms'] as number;
      expect(Math.round((a['llm.prefill_ms'] as number) * 1000)).toBe(Math.round(ttftMs * 1000) - Math.round(setupMs * 1000) - Math.round(queueMs * 1000));
      expect(a['llm.prefill_ms']).toBe(Math.round((ttftMs - setupMs - queueMs) * 1000) / 1000);
      // tokens/s from the attribute's decode_ms.
      expect(a['llm.decode.tokens_per_second']).toBe(Math.round(((a['gen_ai.usage.output_tokens'] as number) / ((a['llm.decode_ms'] as number) / 1000)) * 1000) / 1000);
      expect(ttftMs).toBeGreaterThanOrEqual(60);
    }
  });
});
