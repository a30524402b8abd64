import type { MessageCreateParams } from '@anthropic-ai/sdk/resources/messages';
import type { GenerateContentParameters } from '@google/genai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { ResponseCreateParams } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { segmentsFor } from '../../test/segments.ts';
import type { PrefixSegment } from '../cache/index.ts';
import type { ProviderId } from './index.ts';

const SYSTEM = 'You are a careful assistant for the billing team.';
const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
} as const;

/** kind[index], with `*` for a breakpoint and its ttl: a compact picture of a segment list. */
function shape(segs: PrefixSegment[]): string[] {
  return segs.map((s) => `${s.kind}${s.index === undefined ? '' : `[${s.index}]`}${s.breakpoint ? `*${s.ttl ?? ''}` : ''}`);
}

interface Case {
  name: string;
  provider: ProviderId;
  operation: string;
  params: unknown;
  shape: string[];
}

const chat: ChatCompletionCreateParams = {
  model: 'gpt-4o',
  tools: [weatherTool],
  messages: [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: 'Weather in Oslo?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp":3}' },
    { role: 'developer', content: 'Answer in one sentence.' },
  ],
};

const chatExplicit: ChatCompletionCreateParams = {
  model: 'gpt-5.6',
  prompt_cache_options: { mode: 'explicit' },
  messages: [
    { role: 'system', content: [{ type: 'text', text: SYSTEM, prompt_cache_breakpoint: { mode: 'explicit', ttl: '12h' } }] },
    { role: 'user', content: 'Hello' },
  ],
};

const responses: ResponseCreateParams = {
  model: 'gpt-4o',
  instructions: SYSTEM,
  tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: true }],
  input: [
    { role: 'developer', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'input_text', text: 'Weather in Oslo?' }] },
    { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    { type: 'function_call_output', call_id: 'call_1', output: '{"temp":3}' },
  ],
};

const anthropic: MessageCreateParams = {
  model: 'claude-sonnet-4-5',
  max_tokens: 256,
  tools: [
    { name: 'get_weather', input_schema: { type: 'object' } },
    { name: 'get_time', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral', ttl: '1h' } },
  ],
  system: [
    { type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } },
    { type: 'text', text: 'Today is Monday.' },
  ],
  messages: [
    { role: 'user', content: 'Weather in Oslo?' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '3 degrees' },
        { type: 'text', text: 'And tomorrow?', cache_control: { type: 'ephemeral' } },
      ],
    },
  ],
};

const gemini: GenerateContentParameters = {
  model: 'gemini-2.5-flash',
  contents: [
    { role: 'user', parts: [{ text: 'Weather in Oslo?' }] },
    { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 3 } } }] },
  ],
  config: { systemInstruction: SYSTEM, tools: [{ functionDeclarations: [{ name: 'get_weather' }] }] },
};

describe('segmentsFor: provider order, kinds, indexes and breakpoints', () => {
  const cases: Case[] = [
    {
      name: 'OpenAI chat: tools, system/developer messages as system, implicit breakpoint at the end',
      provider: 'openai',
      operation: 'chat.completions.create',
      params: chat,
      shape: ['tools', 'system[0]', 'message[1]', 'message[2]', 'message[3]', 'system[4]*'],
    },
    {
      name: 'OpenAI chat, explicit mode: only the marked message is a breakpoint',
      provider: 'openai',
      operation: 'chat.completions.create',
      params: chatExplicit,
      shape: ['system[0]*12h', 'message[1]'],
    },
    {
      name: 'OpenAI chat, prompt_cache_options without a ttl: every breakpoint takes the request TTL, 30m by default',
      provider: 'openai',
      operation: 'chat.completions.create',
      params: {
        model: 'gpt-5.6',
        prompt_cache_options: {},
        messages: [
          { role: 'system', content: [{ type: 'text', text: SYSTEM, prompt_cache_breakpoint: { mode: 'explicit' } }] },
          { role: 'user', content: 'Hello' },
        ],
      } as ChatCompletionCreateParams,
      shape: ['system[0]*30m', 'message[1]*30m'],
    },
    {
      name: 'OpenAI chat, an explicit breakpoint and no prompt_cache_options: the request TTL too',
      provider: 'openai',
      operation: 'chat.completions.create',
      params: { ...chatExplicit, prompt_cache_options: undefined, messages: [{ role: 'system', content: [{ type: 'text', text: SYSTEM, prompt_cache_breakpoint: { mode: 'explicit' } }] }, { role: 'user', content: 'Hi' }] } as ChatCompletionCreateParams,
      shape: ['system[0]*30m', 'message[1]*30m'],
    },
    {
      name: 'OpenAI responses: tools, instructions, input items',
      provider: 'openai',
      operation: 'responses.create',
      params: responses,
      shape: ['tools', 'system', 'system[0]', 'message[1]', 'message[2]', 'message[3]*'],
    },
    {
      name: 'OpenAI responses: a string input is message 0',
      provider: 'openai',
      operation: 'responses.create',
      params: { model: 'gpt-4o', input: 'Hello' } satisfies ResponseCreateParams,
      shape: ['message[0]*'],
    },
    {
      name: 'Anthropic: one segment per tool, system block and content block; cache_control marks breakpoints',
      provider: 'anthropic',
      operation: 'messages.create',
      params: anthropic,
      shape: ['tools[0]', 'tools[1]*1h', 'system[0]*', 'system[1]', 'message[0]', 'message[1]', 'message[2]', 'message[2]*'],
    },
    {
      name: 'Anthropic: top-level cache_control marks the last block',
      provider: 'anthropic',
      operation: 'messages.create',
      params: {
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        cache_control: { type: 'ephemeral', ttl: '1h' },
        system: SYSTEM,
        messages: [{ role: 'user', content: 'Hi' }],
      } satisfies MessageCreateParams,
      shape: ['system[0]', 'message[0]*1h'],
    },
    {
      name: 'Anthropic: no cache_control, no breakpoint',
      provider: 'anthropic',
      operation: 'messages.create',
      params: { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] } satisfies MessageCreateParams,
      shape: ['message[0]'],
    },
    {
      name: 'Gemini: config.tools, config.systemInstruction, contents; implicit breakpoint at the end',
      provider: 'gemini',
      operation: 'models.generateContent',
      params: gemini,
      shape: ['tools', 'system', 'message[0]', 'message[1]', 'message[2]*'],
    },
    {
      name: 'Gemini: a string is one user content',
      provider: 'gemini',
      operation: 'models.generateContentStream',
      params: { model: 'gemini-2.5-flash', contents: 'Hi' } satisfies GenerateContentParameters,
      shape: ['message[0]*'],
    },
    { name: 'not an object', provider: 'openai', operation: 'chat.completions.create', params: 'hello', shape: [] },
    {
      name: 'malformed entries are skipped, indexes kept',
      provider: 'anthropic',
      operation: 'messages.create',
      params: { system: 42, tools: [null], messages: [null, { role: 'user' }, { role: 'user', content: ['x', { type: 'text', text: 'ok' }] }] },
      shape: ['message[2]'],
    },
    {
      name: 'malformed OpenAI input items are skipped',
      provider: 'openai',
      operation: 'responses.create',
      params: { input: ['loose string', { role: 'user', content: 'Hi' }] },
      shape: ['message[1]*'],
    },
  ];

  it.each(cases)('$name', ({ provider, operation, params, shape: expected }) => {
    expect(shape(segmentsFor(provider, operation, params))).toEqual(expected);
  });
});

describe('segmentsFor: fingerprints', () => {
  it('are 16 hex digits and never carry the prompt text', () => {
    const segs = segmentsFor('anthropic', 'messages.create', anthropic);
    for (const s of segs) expect(s.hash).toMatch(/^[0-9a-f]{16}$/);
    const json = JSON.stringify(segs);
    for (const text of [SYSTEM, 'Weather in Oslo?', 'get_weather', 'Monday']) expect(json).not.toContain(text);
  });

  it('ignore key order but not content', () => {
    const a = segmentsFor('openai', 'chat.completions.create', { model: 'm', messages: [{ role: 'user', content: 'Hi', name: 'ann' }] });
    const b = segmentsFor('openai', 'chat.completions.create', { messages: [{ name: 'ann', content: 'Hi', role: 'user' }], model: 'm' });
    const c = segmentsFor('openai', 'chat.completions.create', { model: 'm', messages: [{ role: 'user', content: 'Hi!', name: 'ann' }] });
    expect(a[0]!.hash).toBe(b[0]!.hash);
    expect(c[0]!.hash).not.toBe(a[0]!.hash);
  });

  it('do not change when a cache marker moves (Anthropic cache_control, OpenAI prompt_cache_breakpoint)', () => {
    const marked: MessageCreateParams = {
      model: 'claude-sonnet-4-5',
      max_tokens: 16,
      system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
    };
    const unmarked: MessageCreateParams = { model: 'claude-sonnet-4-5', max_tokens: 16, system: SYSTEM, messages: [{ role: 'user', content: 'Hi' }] };
    const hashes = (p: unknown, provider: ProviderId = 'anthropic', method = 'messages.create') => segmentsFor(provider, method, p).map((s) => s.hash);
    expect(hashes(marked)).toEqual(hashes(unmarked));

    const openaiMarked: ChatCompletionCreateParams = {
      model: 'gpt-5.6',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', prompt_cache_breakpoint: { mode: 'explicit' } }] }],
    };
    const openaiUnmarked: ChatCompletionCreateParams = { model: 'gpt-5.6', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] };
    expect(hashes(openaiMarked, 'openai', 'chat.completions.create')).toEqual(hashes(openaiUnmarked, 'openai', 'chat.completions.create'));
  });

  it('treat the SDK shorthands as the full form (Gemini string contents, Anthropic string system)', () => {
    const short = segmentsFor('gemini', 'models.generateContent', { model: 'g', contents: 'Hi', config: { systemInstruction: SYSTEM } });
    const full = segmentsFor('gemini', 'models.generateContent', {
      model: 'g',
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      config: { systemInstruction: { role: 'user', parts: [{ text: SYSTEM }] } },
    } satisfies GenerateContentParameters);
    expect(short.map((s) => s.hash)).toEqual(full.map((s) => s.hash));
  });

  it('estimate tokens as ceil(characters of string values / 4)', () => {
    const text = 'x'.repeat(401);
    const [seg] = segmentsFor('gemini', 'models.generateContent', { model: 'g', contents: text });
    // { role: 'user', parts: [{ text }] }: 4 + 401 characters of strings.
    expect(seg!.tokens).toBe(Math.ceil(405 / 4));
  });
});
