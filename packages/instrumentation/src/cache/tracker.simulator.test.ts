/**
 * The classifier against the simulator's prompt-cache model, driven through the official SDKs:
 * the usage each provider reports is the only input besides the request, as in production.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { GoogleGenAI, type GenerateContentParameters } from '@google/genai';
import { startSimulator, type Simulator } from '@llm-prism/simulator';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentsFor } from '../../test/segments.ts';
import { CACHE_MODELS } from '../formats/index.ts';
import { CacheTracker, type CacheClassification, type CacheUsage } from './tracker.ts';

const MINUTE = 60_000;
const POLICY = 'Refunds within 30 days; escalate disputes over 500 EUR. '.repeat(150);
const SYSTEM = `You are the billing assistant. ${POLICY}`;
const perUser = (name: string) => `Customer: ${name}. ${SYSTEM}`;
const ANSWER = 'Let me check the ledger for you. '.repeat(60);
const HISTORY = ['Why was I charged twice?', ANSWER, 'Thanks', 'Found it.', 'Great', 'Done.', 'Bye', 'Bye.', 'Wait'];

let t = Date.UTC(2026, 10, 23, 12);
const clock = () => t;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, cache: { clock }, defaultScenario: { chunks: 1 } });
});
afterAll(async () => {
  await sim.close();
});

const outcome = (c: CacheClassification) => [c.state, c.missReason, c.breakAt].filter(Boolean).join(' ');

describe('CacheTracker with the simulator cache model and the official SDKs', () => {
  it('OpenAI chat: cold → hit → evicted → expired → prefix_changed at system → partial at messages[2]', async () => {
    const openai = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
    const tracker = new CacheTracker({ models: CACHE_MODELS, now: clock });
    const call = async (system: string, texts: string[], conversationId = 'o-1') => {
      const params: ChatCompletionCreateParamsNonStreaming = {
        model: 'gpt-4o',
        messages: [{ role: 'system', content: system }, ...texts.map((content, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content }))],
      };
      const res = await openai.chat.completions.create(params);
      const usage: CacheUsage = {
        inputTokens: res.usage!.prompt_tokens,
        cacheReadTokens: res.usage!.prompt_tokens_details?.cached_tokens ?? 0,
        cacheWriteTokens: 0,
      };
      return outcome(tracker.classify({ provider: 'openai', model: params.model, conversationId, segments: segmentsFor('openai', 'chat.completions.create', params), usage }));
    };

    expect(await call(SYSTEM, HISTORY.slice(0, 1))).toBe('miss cold');
    t += MINUTE;
    expect(await call(SYSTEM, HISTORY.slice(0, 3))).toBe('hit');
    t += MINUTE;
    sim.cache.evictAll('openai');
    expect(await call(SYSTEM, HISTORY.slice(0, 5))).toBe('miss evicted');
    t += 6 * MINUTE;
    expect(await call(SYSTEM, HISTORY.slice(0, 7))).toBe('miss expired');
    t += MINUTE;
    expect(await call(perUser('Ann'), HISTORY.slice(0, 7))).toBe('miss prefix_changed system');
    t += MINUTE;
    expect(await call(perUser('Ann'), [HISTORY[0]!, 'EDITED', ...HISTORY.slice(2, 9)])).toBe('partial messages[2]');
    t += MINUTE;
    expect(await call(perUser('Ann'), [HISTORY[0]!, 'EDITED', ...HISTORY.slice(2, 9), 'Sure.', 'More?'])).toBe('hit');
    expect(await call('Be brief.', ['Hi'], 'o-2')).toBe('none');
  });

  it('Anthropic: cold write → hit → evicted → expired → prefix_changed at system, partial, 1 h TTL', async () => {
    const anthropic = new Anthropic({ baseURL: sim.anthropicBaseURL, apiKey: 'test', maxRetries: 0 });
    const tracker = new CacheTracker({ models: CACHE_MODELS, now: clock });
    const call = async (opts: { system?: string; texts: string[]; systemTtl?: '5m' | '1h'; conversationId?: string }) => {
      const messages: MessageParam[] = opts.texts.map((text, i) => ({
        role: i % 2 ? 'assistant' : 'user',
        content: [{ type: 'text', text, ...(i === opts.texts.length - 1 && { cache_control: { type: 'ephemeral' } }) }],
      }));
      const params: MessageCreateParamsNonStreaming = {
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        system: [{ type: 'text', text: opts.system ?? SYSTEM, ...(opts.systemTtl && { cache_control: { type: 'ephemeral', ttl: opts.systemTtl } }) }],
        messages,
      };
      const { usage: u } = await anthropic.messages.create(params);
      const read = u.cache_read_input_tokens ?? 0;
      const write = u.cache_creation_input_tokens ?? 0;
      const usage: CacheUsage = { inputTokens: u.input_tokens + read + write, cacheReadTokens: read, cacheWriteTokens: write };
      return outcome(
        tracker.classify({ provider: 'anthropic', model: params.model, conversationId: opts.conversationId ?? 'a-1', segments: segmentsFor('anthropic', 'messages.create', params), usage }),
      );
    };

    expect(await call({ texts: HISTORY.slice(0, 1) })).toBe('write cold');
    t += MINUTE;
    expect(await call({ texts: HISTORY.slice(0, 3) })).toBe('hit');
    t += MINUTE;
    sim.cache.evictAll('anthropic');
    expect(await call({ texts: HISTORY.slice(0, 5) })).toBe('write evicted');
    t += 6 * MINUTE;
    expect(await call({ texts: HISTORY.slice(0, 7) })).toBe('write expired');
    t += MINUTE;
    expect(await call({ system: perUser('Ann'), texts: HISTORY.slice(0, 7) })).toBe('write prefix_changed system');

    // A second breakpoint on the system prompt: an edited history still reads the system prompt.
    t += MINUTE;
    expect(await call({ system: perUser('Bo'), systemTtl: '5m', texts: HISTORY.slice(0, 3), conversationId: 'a-2' })).toBe('write cold');
    t += MINUTE;
    expect(await call({ system: perUser('Bo'), systemTtl: '5m', texts: [HISTORY[0]!, 'EDITED', HISTORY[2]!], conversationId: 'a-2' })).toBe(
      'partial messages[1]',
    );

    // 1 h breakpoint: still cached after 30 min, gone after more than an hour.
    t += MINUTE;
    expect(await call({ system: perUser('Cy'), systemTtl: '1h', texts: ['q1'], conversationId: 'a-3' })).toBe('write cold');
    t += 30 * MINUTE;
    expect(await call({ system: perUser('Cy'), systemTtl: '1h', texts: ['q1', 'a1', 'q2'], conversationId: 'a-3' })).toBe('hit');
    t += 61 * MINUTE;
    expect(await call({ system: perUser('Cy'), systemTtl: '1h', texts: ['q1', 'a1', 'q2', 'a2', 'q3'], conversationId: 'a-3' })).toBe('write expired');
  });

  it('Gemini: cold → hit → evicted → expired → prefix_changed at system', async () => {
    const gemini = new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: sim.geminiBaseURL } });
    const tracker = new CacheTracker({ models: CACHE_MODELS, now: clock });
    const call = async (system: string, texts: string[]) => {
      const params: GenerateContentParameters = {
        model: 'gemini-2.5-flash',
        contents: texts.map((text, i) => ({ role: i % 2 ? 'model' : 'user', parts: [{ text }] })),
        config: { systemInstruction: system },
      };
      const res = await gemini.models.generateContent(params);
      const meta = res.usageMetadata!;
      const usage: CacheUsage = { inputTokens: meta.promptTokenCount ?? 0, cacheReadTokens: meta.cachedContentTokenCount ?? 0, cacheWriteTokens: 0 };
      return outcome(tracker.classify({ provider: 'gemini', model: params.model, segments: segmentsFor('gemini', 'models.generateContent', params), usage }));
    };

    expect(await call(SYSTEM, HISTORY.slice(0, 1))).toBe('miss cold');
    t += MINUTE;
    expect(await call(SYSTEM, HISTORY.slice(0, 3))).toBe('hit');
    t += MINUTE;
    sim.cache.evictAll('gemini');
    expect(await call(SYSTEM, HISTORY.slice(0, 5))).toBe('miss evicted');
    t += 6 * MINUTE;
    expect(await call(SYSTEM, HISTORY.slice(0, 7))).toBe('miss expired');
    t += MINUTE;
    // No conversation id: the next turn is linked to the previous one by the opening question.
    expect(await call(perUser('Ann'), HISTORY.slice(0, 9))).toBe('miss prefix_changed system');
  });
});
