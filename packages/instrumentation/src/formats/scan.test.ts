import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LlmEvent, SseEvent } from '../internal-types.ts';
import { anthropicMessages } from './anthropic/adapter.ts';
import type { Api } from './format.ts';
import { openaiChat } from './openai/adapters.ts';
import { FragmentShape } from './scan.ts';

const chunk = (content: string, extra: { id?: string; finish?: string; obfuscation?: string; index?: number } = {}) =>
  `{"id":"${extra.id ?? 'chatcmpl-1'}","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":${extra.index ?? 0},"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":${extra.finish ? `"${extra.finish}"` : 'null'}}],"usage":null,"obfuscation":"${extra.obfuscation ?? 'abc'}"}`;

function learnt(...data: string[]): FragmentShape {
  const shape = new FragmentShape('"content":"', ['obfuscation']);
  for (const d of data) shape.learn(d);
  return shape;
}

describe('FragmentShape', () => {
  it('recognises fragments of the learnt shape, whatever their text and padding', () => {
    const shape = learnt(chunk('Hello'), chunk(' world', { obfuscation: 'xy' }));
    expect(shape.match(chunk('again'))).toBe(true);
    expect(shape.match(chunk('with "quotes" and \\ backslashes\n', { obfuscation: 'longer-padding' }))).toBe(true);
    expect(shape.match(chunk('ünïcødé 日本', { obfuscation: '' }))).toBe(true);
    expect(shape.match(chunk(''))).toBe(false);
  });

  it('leaves to the parser every payload that may carry more than a fragment', () => {
    const shape = learnt(chunk('Hello'), chunk(' world', { obfuscation: 'xy' }));
    expect(shape.match(chunk('bye', { finish: 'stop' }))).toBeUndefined();
    expect(shape.match(chunk('x', { id: 'chatcmpl-2' }))).toBeUndefined();
    expect(shape.match(chunk('x', { index: 1 }))).toBeUndefined();
    expect(shape.match(chunk('x', { obfuscation: 'a\\"b' }))).toBeUndefined();
    expect(shape.match(chunk('x').replace('"usage":null', '"usage":{"total_tokens":3}'))).toBeUndefined();
    expect(shape.match(chunk('x').replace('}', ',"error":{"message":"boom"}}'))).toBeUndefined();
    expect(shape.match('[DONE]')).toBeUndefined();
    expect(shape.match(chunk('x') + '\n')).toBeUndefined();
  });

  it('says the same on the bytes of a payload as on its text', () => {
    const shape = learnt(chunk('Hello'), chunk(' world', { obfuscation: 'xy' }));
    const payloads = [
      chunk('again'),
      chunk('with "quotes" and \\ backslashes\n', { obfuscation: 'longer-padding' }),
      chunk('ünïcødé 日本', { obfuscation: '' }),
      chunk(''),
      chunk('bye', { finish: 'stop' }),
      chunk('x', { id: 'chatcmpl-2' }),
      chunk('x', { obfuscation: 'a\\"b' }),
      chunk('x', { obfuscation: 'a"b' }),
      chunk('x').replace('"usage":null', '"usage":{"total_tokens":3}'),
      chunk('x') + '\n',
      chunk('x').slice(0, -1),
      chunk('x').replace('"x"', '"a\nb"'), // raw control characters: not JSON, left to the parser
      chunk('x').replace('"x"', '"a\tb"'),
      chunk('x', { obfuscation: 'a\rb' }),
      chunk('a\\'), // a fragment ending in a backslash: its closing quote is not escaped
      '[DONE]',
    ];
    for (const data of payloads) {
      // Inside a larger buffer, as in a network chunk.
      const bytes = Buffer.from(`data: ${data}\n\n`);
      expect(shape.matchBytes(bytes, 6, bytes.length - 2), data).toBe(shape.match(data));
    }
    expect(learnt(chunk('Hello')).matchBytes(Buffer.from(chunk('x')), 0, Buffer.byteLength(chunk('x')))).toBeUndefined();
  });

  it('knows nothing before two fragments of one shape, and learns no varying key but a padding one', () => {
    expect(learnt().match(chunk('x'))).toBeUndefined();
    expect(learnt(chunk('Hello')).match(chunk('x'))).toBeUndefined();
    const varyingFinish = (reason: string) => chunk('x').replace('"finish_reason":null', `"finish_reason":null,"note":"${reason}"`);
    expect(learnt(varyingFinish('a'), varyingFinish('b')).match(varyingFinish('c'))).toBeUndefined();
    const shape = learnt(chunk('Hello'), chunk(' world', { obfuscation: 'xy' }));
    shape.forget();
    expect(shape.match(chunk('x'))).toBeUndefined();
  });
});

/** What the call recorder reads of a stream's events when content capture is off. */
function facts(events: LlmEvent[][]): unknown[] {
  return events.map((es) => {
    const output = es.some((e) => e.kind === 'output' || e.kind === 'toolCallStart' || e.kind === 'toolCallDelta');
    const rest = es.filter((e) => e.kind !== 'output' && e.kind !== 'responseMeta').map((e) => (e.kind === 'toolCallDelta' ? { ...e, arguments: '' } : e));
    const refused = es.some((e) => e.kind === 'output' && e.refusal);
    return { output, refused, rest };
  });
}

/** The response id and model the recorder ends with. */
function lastMeta(events: LlmEvent[][]): { id?: string; model?: string } {
  const meta: { id?: string; model?: string } = {};
  for (const e of events.flat()) {
    if (e.kind !== 'responseMeta') continue;
    meta.id = e.id ?? meta.id;
    meta.model = e.model ?? meta.model;
  }
  return meta;
}

const RECORDINGS = new URL('../../test/recordings/', import.meta.url);

function sseEvents(file: URL): SseEvent[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r?\n/);
      const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      return { event, data };
    });
}

/** A long stream of fragments as OpenAI sends them (random padding), with a refusal and a finish at the end. */
function syntheticChat(): SseEvent[] {
  const events = [chunk(''), ...Array.from({ length: 50 }, (_, i) => chunk(`tok${i} "q" \\`, { obfuscation: 'p'.repeat(i % 7) }))];
  events.push(chunk('x').replace('"content":"x"', '"content":null,"refusal":"I cannot"'), chunk('', { finish: 'stop' }), '[DONE]');
  return events.map((data) => ({ event: undefined, data }));
}

/** An Anthropic answer: a text block of fragments, then a tool_use block streaming its input. */
function syntheticAnthropic(): SseEvent[] {
  const ev = (data: object): SseEvent => ({ event: (data as { type: string }).type, data: JSON.stringify(data) });
  return [
    ev({ type: 'message_start', message: { id: 'msg_1', model: 'claude-sonnet-4-5', usage: { input_tokens: 10, output_tokens: 1 } } }),
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...Array.from({ length: 30 }, (_, i) => ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `tok${i} "q"` } })),
    ev({ type: 'content_block_stop', index: 0 }),
    ev({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} } }),
    ...Array.from({ length: 5 }, (_, i) => ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: `{"a":${i}` } })),
    ev({ type: 'content_block_stop', index: 1 }),
    ev({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 } }),
    ev({ type: 'message_stop' }),
  ];
}

describe('stream decoders that parse only where a fact lives', () => {
  const cases: Array<[string, Api, SseEvent[]]> = [
    ['synthetic openai chat', openaiChat, syntheticChat()],
    ['synthetic anthropic', anthropicMessages, syntheticAnthropic()],
  ];
  for (const [dir, api] of [
    ['openai', openaiChat],
    ['anthropic', anthropicMessages],
  ] as const) {
    for (const file of readdirSync(new URL(`${dir}/`, RECORDINGS)).filter((f) => f.endsWith('.body.sse'))) {
      const expectation = JSON.parse(readFileSync(new URL(`${dir}/${file.replace('.body.sse', '.expect.json')}`, RECORDINGS), 'utf8')) as { call: { sdk: string } };
      if (dir === 'openai' && expectation.call.sdk !== 'openai.chat') continue;
      cases.push([`${dir}/${file}`, api, sseEvents(new URL(`${dir}/${file}`, RECORDINGS))]);
    }
  }

  for (const [name, api, events] of cases) {
    it(`${name}: the same facts as parsing every event`, () => {
      const parsed = events.map((e) => api.streamEvents(e));
      const decode = api.streamDecoder?.(false) ?? ((e: SseEvent) => api.streamEvents(e));
      const scanned = events.map((e) => decode(e));
      expect(facts(scanned)).toEqual(facts(parsed));
      expect(lastMeta(scanned)).toEqual(lastMeta(parsed));
      // Content capture reads every fragment's text: its decoder parses them all.
      const captured = api.streamDecoder?.(true) ?? ((e: SseEvent) => api.streamEvents(e));
      expect(events.map((e) => captured(e))).toEqual(parsed);
    });
  }

  it('counts a chunk of one fragment alone on its bytes, and leaves every other chunk to the line scan', () => {
    const decode = openaiChat.streamDecoder!(false);
    for (const text of ['Hello', ' world', '!']) decode({ event: undefined, data: chunk(text) }); // the shape is learnt (the first sets the ids)
    const count = (text: string) => decode.wholeEvents!(Buffer.from(text));
    expect(count(`data: ${chunk('again')}\n\n`)).toBe(1);
    expect(count(`data:${chunk('again')}\n\n`)).toBe(1);
    expect(count(`event: delta\ndata: ${chunk('again')}\n\n`)).toBe(1);
    expect(count(`data: ${chunk('')}\n\n`)).toBe(0);
    expect(count(`data: ${chunk('a')}\n\ndata: ${chunk('b')}\n\n`)).toBe(2);
    expect(count(`data: ${chunk('a')}\r\n\r\n`)).toBe(1);
    // A line break inside: two lines to the SSE parser, never one fragment.
    expect(count(`data: ${chunk('a').replace('"a"', '"a\nb"')}\n\n`)).toBeUndefined();
    expect(count(`data: ${chunk('a').replace('"a"', '"a\rb"')}\n\n`)).toBeUndefined();
    expect(count(`event: delta\rdata: ${chunk('a')}\n\n`)).toBeUndefined();
    expect(count(`: ping\ndata: ${chunk('a')}\n\n`)).toBeUndefined();
    expect(count(`data: ${chunk('a', { finish: 'stop' })}\n\n`)).toBeUndefined();
    expect(count(`data: ${chunk('a')}\n`)).toBeUndefined();
  });

  it('learns no shape from data of several lines', () => {
    const shape = learnt(`${chunk('Hello')}\n`, `${chunk(' world')}\n`);
    expect(shape.match(`${chunk('x')}\n`)).toBeUndefined();
  });

  it('the synthetic streams are mostly recognised without parsing', () => {
    // The shared frozen events stand for unparsed fragments.
    const unparsed = (api: Api, events: SseEvent[]) => {
      const decode = api.streamDecoder!(false);
      return events.map((e) => decode(e)).filter((es) => Object.isFrozen(es)).length;
    };
    expect(unparsed(openaiChat, syntheticChat())).toBeGreaterThanOrEqual(45);
    expect(unparsed(anthropicMessages, syntheticAnthropic())).toBe(28);
  });
});
