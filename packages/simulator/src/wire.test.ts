import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';
import type { Scenario } from './types.ts';

// Raw bytes, read with fetch and parsed with eventsource-parser: the framing the SDKs rely on.

interface Received {
  response: Response;
  raw: string;
  events: (EventSourceMessage & { at: number })[];
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(() => sim.close());

async function post(path: string, body: unknown, scenario: Scenario): Promise<Received> {
  const start = performance.now();
  const response = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...scenarioHeaders(scenario) },
    body: JSON.stringify(body),
  });
  const events: Received['events'] = [];
  let at = 0;
  const parser = createParser({ onEvent: (event) => events.push({ ...event, at }) });
  const decoder = new TextDecoder();
  let raw = '';
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    at = performance.now() - start;
    const text = decoder.decode(bytes, { stream: true });
    raw += text;
    parser.feed(text);
  }
  return { response, raw, events };
}

const json = (e: EventSourceMessage) => JSON.parse(e.data) as Record<string, unknown>;

describe('OpenAI chat completions framing', () => {
  it('sends data-only events with obfuscation, usage null on every chunk, then [DONE]', async () => {
    const { response, events } = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', messages: [], stream: true, stream_options: { include_usage: true } },
      { chunks: 2 },
    );
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(events.every((e) => e.event === undefined)).toBe(true);
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map(json);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && typeof c.obfuscation === 'string')).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks[0]?.choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
  });

  it('leaves out obfuscation when stream_options.include_obfuscation is false', async () => {
    const { events } = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', messages: [], stream: true, stream_options: { include_obfuscation: false } },
      { chunks: 1 },
    );
    expect(events.slice(0, -1).map((e) => 'obfuscation' in json(e))).toEqual([false, false, false]);
  });

  it('delivers each chunk when it is sent, not batched', async () => {
    const { events } = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [], stream: true }, { chunks: 5, chunkIntervalMs: 60 });
    const contentAt = events.filter((e) => e.data !== '[DONE]' && JSON.stringify(json(e)).includes('"content":"tok ')).map((e) => e.at);
    expect(contentAt).toHaveLength(5);
    for (let i = 1; i < contentAt.length; i++) expect((contentAt[i] ?? 0) - (contentAt[i - 1] ?? 0)).toBeGreaterThan(30);
  });
});

describe('event-named streams', () => {
  it('OpenAI responses: event name = type, sequence numbers from 0', async () => {
    const { events } = await post('/v1/responses', { model: 'gpt-5', input: 'hi', stream: true }, { chunks: 2 });
    expect(events.every((e) => e.event === json(e).type)).toBe(true);
    expect(events.map((e) => json(e).sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('OpenAI responses: error then response.failed', async () => {
    const { events } = await post('/v1/responses', { model: 'gpt-5', input: 'hi', stream: true }, { chunks: 3, failAfterChunks: 1 });
    expect(events.slice(-2).map((e) => e.event)).toEqual(['error', 'response.failed']);
    expect(json(events.at(-2) as EventSourceMessage)).toMatchObject({ type: 'error', error: { type: 'server_error' } });
    expect(json(events.at(-1) as EventSourceMessage)).toMatchObject({ response: { status: 'failed' } });
  });

  it('Anthropic: every event named by its type, pings during prefill', async () => {
    const { response, events } = await post(
      '/v1/messages',
      { model: 'claude-sim', max_tokens: 10, messages: [], stream: true },
      { chunks: 2, prefillMs: 600, pings: true },
    );
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(events.every((e) => e.event === json(e).type)).toBe(true);
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'ping',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('Anthropic: the error event', async () => {
    const { events } = await post('/v1/messages', { model: 'claude-sim', max_tokens: 10, messages: [], stream: true }, { failAfterChunks: 0 });
    expect(events.at(-1)?.event).toBe('error');
    expect(json(events.at(-1) as EventSourceMessage)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });
});

describe('Gemini framing', () => {
  it('sends single-line data events terminated by CRLF CRLF, nothing after the last', async () => {
    const { raw, events } = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', { contents: [] }, { chunks: 3 });
    expect(raw).toMatch(/^(data: [^\r\n]+\r\n\r\n)+$/);
    expect(events).toHaveLength(3);
    expect(events.map((e) => (json(e).usageMetadata as { candidatesTokenCount: number }).candidatesTokenCount)).toEqual([1, 2, 3]);
  });

  it('answers an unknown path with 404', async () => {
    const response = await fetch(`${sim.url}/v1/unknown`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });
});
