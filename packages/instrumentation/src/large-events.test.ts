/**
 * Megabyte events on the network path (issue 12, item 6): a Gemini answer with images carries each
 * image as base64 `inlineData` of megabytes in one server-sent event. The instrumentation decodes
 * events as their bytes arrive, on the path that hands them to the application; it must not spend
 * there what no attribute needs (parsing the base64), or the span ends late (later arrivals are
 * timed after that work) and the application's call is slowed. A raw server in this file sends the
 * answer and records when its last byte was written (same process, same clock): that is the truth.
 */
import { createRequire } from 'node:module';
import type { GoogleGenAI as GoogleGenAIType } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { now, useHarness, useRawServer } from '../test/contract.ts';
import { endMs, finishedCalls, TIMING } from '../test/harness.ts';
import { ResponseReader } from './response-reader.ts';

const h = useHarness();

const IMAGES = 3;
const IMAGE_BYTES = 3 * 1024 * 1024;
/** A base64 "image" of IMAGE_BYTES characters (content irrelevant, size is the point). */
const image = (i: number): string => Buffer.alloc((IMAGE_BYTES / 4) * 3, i + 1).toString('base64');

const event = (body: object): string => `data: ${JSON.stringify(body)}\r\n\r\n`;
const MODEL = 'gemini-2.5-flash-image';
const BODY =
  event({ candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Here are the pictures.' }] } }], modelVersion: MODEL, responseId: 'img-1' }) +
  Array.from({ length: IMAGES }, (_, i) =>
    event({ candidates: [{ index: 0, content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: image(i) } }] } }], modelVersion: MODEL, responseId: 'img-1' }),
  ).join('') +
  event({
    candidates: [{ index: 0, content: { role: 'model', parts: [{ text: ' Done.' }] }, finishReason: 'STOP' }],
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 3870, totalTokenCount: 3879 },
    modelVersion: MODEL,
    responseId: 'img-1',
  });

const raw = useRawServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(BODY);
  });
});

/**
 * The time the instrumentation spends on the network path: in the response reader, which the
 * wire taps call synchronously as the bytes arrive (decoding, SSE parsing, the events' decoding
 * and the recorder's bookkeeping all happen inside these calls).
 */
const onPath = { ms: 0 };
for (const method of ['chunk', 'end'] as const) {
  const original = ResponseReader.prototype[method] as (this: ResponseReader, ...args: unknown[]) => void;
  (ResponseReader.prototype as unknown as Record<string, unknown>)[method] = function (this: ResponseReader, ...args: unknown[]) {
    const t = performance.now();
    try {
      original.apply(this, args);
    } finally {
      onPath.ms += performance.now() - t;
    }
  };
}

/** One call read to its end: the images it gave, and when the application got its last chunk. */
async function generate(client: GoogleGenAIType): Promise<{ images: number; lastChunk: number }> {
  let images = 0;
  const stream = await client.models.generateContentStream({ model: MODEL, contents: 'Draw three cats.' });
  for await (const chunk of stream) images += chunk.candidates?.[0]?.content?.parts?.filter((p) => p.inlineData).length ?? 0;
  return { images, lastChunk: now() };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('megabyte events (Gemini image output)', () => {
  it('cost the network path a scan, not a parse, and the span ends before the application has the last chunk', TIMING, async () => {
    const require = createRequire(import.meta.url);
    const { GoogleGenAI } = require('@google/genai') as typeof import('@google/genai');
    const instrumented = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: raw.base } });
    await generate(instrumented); // warm-up: connection, JIT
    h.exporter.reset();

    const ROUNDS = 5;
    const spent: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      onPath.ms = 0;
      const traced = await generate(instrumented);
      spent.push(onPath.ms);
      expect(traced.images).toBe(IMAGES);
      const calls = await finishedCalls(h.exporter, i + 1);
      const call = calls.at(-1)!;
      expect(call.attributes).toMatchObject({ 'gen_ai.response.id': 'img-1', 'gen_ai.response.finish_reasons': ['STOP'], 'gen_ai.usage.output_tokens': 3870, 'llm.outcome': 'success' });
      // The span ends at the arrival of the last bytes, before the application has the last chunk.
      expect(endMs(call)).toBeLessThanOrEqual(traced.lastChunk);
    }
    console.log(`megabyte events (${IMAGES} × ${IMAGE_BYTES / 1048576} MiB): instrumentation on the network path ${spent.map((x) => x.toFixed(1)).join(', ')} ms (median ${median(spent).toFixed(1)})`);
    // Decoding and parsing the 9 MiB of base64 cost 22–41 ms per call (median ~25); skimming them, ~2–3 ms.
    expect(median(spent)).toBeLessThan(10);
  });
});
