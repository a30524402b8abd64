/**
 * A streamed answer whose content type is not `text/event-stream` (a gateway or proxy that drops or
 * rewrites it): the SDKs read the stream whatever the label says, so the call must be measured as
 * the stream it is — phases at arrival, chunks, usage — not ended as an incomplete stream with
 * nothing. A raw server sends the answer with the label under test and timed chunks (the truth).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { patchedOpenAI, useHarness, useRawServer } from '../test/contract.ts';
import { durationMs, sleep, TIMING, treeOf } from '../test/harness.ts';
import { expectFaithful } from '../test/sdk-majors-harness.ts';

const h = useHarness();

const HEADERS_MS = 100;
const FIRST_MS = 200;
const CHUNKS = 6;
const GAP_MS = 40;

const chunk = (body: object): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o', ...body })}\n\n`;
const delta = (content: string, finish: string | null = null) => chunk({ choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

/** The label of the answer to a request, by its `x-label` header ('' sends none). */
const raw = useRawServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    const label = String(req.headers['x-label']);
    await sleep(HEADERS_MS);
    res.writeHead(200, label === '' ? {} : { 'content-type': label });
    res.flushHeaders();
    await sleep(FIRST_MS);
    for (let i = 0; i < CHUNKS; i++) {
      if (i > 0) await sleep(GAP_MS);
      res.write(delta(`tok${i} `, i === CHUNKS - 1 ? 'stop' : null));
    }
    res.write(chunk({ choices: [], usage: { prompt_tokens: 11, completion_tokens: CHUNKS, total_tokens: 11 + CHUNKS } }));
    res.end('data: [DONE]\n\n');
  });
});

/** One streamed call labelled `label`, read to its end; the text the application got. */
async function streamed(label: string): Promise<string> {
  const client = patchedOpenAI(h, `${raw.base}/v1`, 0);
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } },
    { headers: { 'x-label': label } },
  );
  let text = '';
  for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
  return text;
}

describe('a streamed answer labelled otherwise', () => {
  // The first call pays for loading and the connection: not a matter of the label.
  beforeAll(() => streamed('text/event-stream'));

  it.each(['text/plain; charset=utf-8', 'application/octet-stream', ''])('%j: the stream it is, phases at arrival, chunks and usage', TIMING, async (label) => {
    h.exporter.reset();
    const text = await streamed(label);
    expect(text).toBe(Array.from({ length: CHUNKS }, (_, i) => `tok${i} `).join(''));
    await sleep(50);
    const [call] = h.exporter.getFinishedSpans().filter((s) => s.name === 'chat gpt-4o');
    const t = treeOf(h.exporter, call!);
    expect(call!.attributes).toMatchObject({
      'llm.outcome': 'success',
      'llm.stream.chunks': CHUNKS,
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': CHUNKS,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expectFaithful(durationMs(t.ttft!), HEADERS_MS + FIRST_MS, 'ttft');
    expectFaithful(durationMs(t.decode!), (CHUNKS - 1) * GAP_MS, 'decode');
  });
});
