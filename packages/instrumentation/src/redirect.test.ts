/**
 * A gateway that redirects the request (`307` with a `Location`, which `fetch` follows by sending it
 * again): one attempt of one call, timed from its first send — not a retry with a 307 in it. A raw
 * server redirects, then answers the redirected request with timed chunks (the truth).
 */
import { describe, expect, it } from 'vitest';
import { patchedOpenAI, useHarness, useRawServer } from '../test/contract.ts';
import { durationMs, sleep, TIMING, treeOf } from '../test/harness.ts';
import { expectFaithful } from '../test/sdk-majors-harness.ts';

const h = useHarness();

const REDIRECT_MS = 60;
const HEADERS_MS = 100;
const FIRST_MS = 150;
const CHUNKS = 4;
const GAP_MS = 30;

const chunk = (body: object): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o', ...body })}\n\n`;

const raw = useRawServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    if (req.url?.startsWith('/v1/')) {
      await sleep(REDIRECT_MS);
      res.writeHead(307, { location: req.url.replace('/v1/', '/v2/'), 'content-length': '0' }).end();
      return;
    }
    await sleep(HEADERS_MS);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    await sleep(FIRST_MS);
    for (let i = 0; i < CHUNKS; i++) {
      if (i > 0) await sleep(GAP_MS);
      res.write(chunk({ choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: i === CHUNKS - 1 ? 'stop' : null }] }));
    }
    res.write(chunk({ choices: [], usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: 5 + CHUNKS } }));
    res.end('data: [DONE]\n\n');
  });
});

async function streamed(): Promise<string> {
  const client = patchedOpenAI(h, `${raw.base}/v1`, 0);
  const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
  let text = '';
  for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
  return text;
}

describe('a redirect fetch follows', () => {
  it('is one attempt of one call, timed from the first send, with no 307 in it', TIMING, async () => {
    await streamed(); // loading and the connection: not a matter of the redirect
    h.exporter.reset();
    expect(await streamed()).toBe('tok0 tok1 tok2 tok3 ');
    await sleep(50);
    const calls = h.exporter.getFinishedSpans().filter((s) => s.name === 'chat gpt-4o');
    expect(calls).toHaveLength(1);
    const t = treeOf(h.exporter, calls[0]!);
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 1, 'llm.retries': 0, 'llm.outcome': 'success', 'llm.stream.chunks': CHUNKS, 'gen_ai.usage.output_tokens': CHUNKS });
    expect(t.queue!.events.map((e) => e.attributes?.['http.response.status_code'])).toEqual([200]);
    expectFaithful(durationMs(t.ttft!), REDIRECT_MS + HEADERS_MS + FIRST_MS, 'ttft from the first send');
  });
});
