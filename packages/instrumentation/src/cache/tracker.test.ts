import type { MessageCreateParams, MessageParam, TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { GenerateContentParameters } from '@google/genai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { segmentsFor } from '../../test/segments.ts';
import { CACHE_MODELS, type ProviderId } from '../formats/index.ts';
import { CacheTracker, type CacheClassification, type CacheTrackerOptions, type CacheUsage } from './tracker.ts';

const MINUTE = 60_000;
// ~2 100 estimated tokens: above every provider's 1 024-token minimum on its own.
const POLICY = 'Refunds within 30 days; escalate disputes over 500 EUR. '.repeat(150);
const SYSTEM = `You are the billing assistant. ${POLICY}`;
const perUser = (name: string) => `Customer: ${name}. ${SYSTEM}`;

/** A tracker on a manual clock. */
function harness(options: Partial<CacheTrackerOptions> = {}) {
  let t = Date.UTC(2026, 10, 23, 12);
  const tracker = new CacheTracker({ models: CACHE_MODELS, now: () => t, ...options });
  return {
    tracker,
    advance(ms: number) {
      t += ms;
    },
    classify(provider: ProviderId, operation: string, params: unknown, usage: CacheUsage, conversationId?: string): CacheClassification {
      const model = (params as { model?: string }).model;
      return tracker.classify({ provider, model, conversationId, segments: segmentsFor(provider, operation, params), usage });
    },
  };
}

const usage = (inputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0): CacheUsage => ({ inputTokens, cacheReadTokens, cacheWriteTokens });

/** What the assertions look at: state, reason and break point. */
const outcome = (c: CacheClassification) => [c.state, c.missReason, c.breakAt].filter(Boolean).join(' ');

/** Alternating user/assistant turns. */
const turns = (...texts: string[]) => texts.map((content, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content }));

function openaiChat(system: string, ...texts: string[]): ChatCompletionCreateParams {
  return { model: 'gpt-4o', messages: [{ role: 'system', content: system }, ...turns(...texts)] };
}

describe('CacheTracker — OpenAI chat (implicit caching, no writes reported)', () => {
  const q = 'Why was I charged twice?';
  // ~500 tokens: editing it later loses far more than one 128-token block.
  const answer = 'Let me check the ledger for you. '.repeat(60);
  /** One conversation's calls on a tracker, as their outcome. */
  const chat = (h: ReturnType<typeof harness>, conversationId?: string) => (params: ChatCompletionCreateParams, u: CacheUsage) =>
    outcome(h.classify('openai', 'chat.completions.create', params, u, conversationId));

  it('a history cut back to an earlier turn (undo, regenerate) ends inside what the last turn left cached: a hit when read whole, evicted when nothing is read', () => {
    const h = harness();
    const call = chat(h, 'undo');
    expect(call(openaiChat(SYSTEM, q), usage(2224))).toBe('miss cold');
    h.advance(MINUTE);
    expect(call(openaiChat(SYSTEM, q, answer, 'Thanks'), usage(2750, 2224))).toBe('hit');
    h.advance(MINUTE);
    // Back to the first turn's prompt, all of it read.
    expect(call(openaiChat(SYSTEM, q), usage(2224, 2224))).toBe('hit');
    h.advance(MINUTE);
    expect(call(openaiChat(SYSTEM, q, answer, 'Thanks'), usage(2750, 2688))).toBe('hit');
    h.advance(MINUTE);
    // Cut back again, and the provider read nothing within the TTL.
    expect(call(openaiChat(SYSTEM, q), usage(2224))).toBe('miss evicted');
  });

  it('walks cold → hit → evicted → expired → prefix_changed at system → partial at messages[2]', () => {
    const h = harness();
    const call = chat(h);
    expect(call(openaiChat(SYSTEM, q), usage(2150))).toBe('miss cold');
    h.advance(MINUTE);
    // Cached reads come in 128-token blocks: 2 048 of the previous 2 150 is a full hit.
    expect(call(openaiChat(SYSTEM, q, answer, 'Thanks'), usage(2670, 2048))).toBe('hit');
    h.advance(MINUTE);
    // Within the 5-minute TTL the provider read nothing: it evicted the prefix.
    expect(call(openaiChat(SYSTEM, q, answer, 'Thanks', 'Found it.', 'Great'), usage(2690))).toBe('miss evicted');
    h.advance(6 * MINUTE);
    expect(call(openaiChat(SYSTEM, q, answer, 'Thanks', 'Found it.', 'Great', 'Done.', 'Bye'), usage(2710))).toBe('miss expired');
    h.advance(MINUTE);
    // The next turn, with per-user text inserted into the system prompt: nothing before it is shared.
    expect(call(openaiChat(perUser('Ann'), q, answer, 'Thanks', 'Found it.', 'Great', 'Done.', 'Bye', 'Anything else?', 'No'), usage(2725))).toBe('miss prefix_changed system');
    h.advance(MINUTE);
    // An edited assistant turn: the system prompt and the first question are still read.
    expect(call(openaiChat(perUser('Ann'), q, 'EDITED', 'Thanks'), usage(2190, 2160))).toBe('partial messages[2]');
    h.advance(MINUTE);
    expect(call(openaiChat(perUser('Ann'), q, 'EDITED', 'Thanks', 'Sure.', 'More?'), usage(2200, 2176))).toBe('hit');
  });

  it('reads less than the previous turn cached without any change: partial', () => {
    const h = harness();
    const big = 'ledger '.repeat(2000);
    h.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, big), usage(5700));
    h.advance(MINUTE);
    expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, big, 'ok', 'next'), usage(5710, 2048)))).toBe('partial');
  });

  it('is none below the minimum, whatever the history', () => {
    const h = harness();
    for (let i = 0; i < 3; i++) {
      expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat('Be brief.', 'Hi'), usage(20)))).toBe('none');
      h.advance(MINUTE);
    }
    expect(h.tracker.size).toEqual({ prefixes: 0, conversations: 0 });
  });

  it('knows the shared system prompt of stateless calls: a miss on it is evicted, not cold', () => {
    const h = harness();
    expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, 'Classify: invoice 1'), usage(2140)))).toBe('miss cold');
    h.advance(MINUTE);
    expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, 'Classify: invoice 2'), usage(2140, 2048)))).toBe('hit');
    h.advance(MINUTE);
    expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, 'Classify: invoice 3'), usage(2140)))).toBe('miss evicted');
  });

  it('responses.create: instructions and input are the prefix', () => {
    const h = harness();
    const params = (input: string) => ({ model: 'gpt-4o', instructions: SYSTEM, input });
    expect(outcome(h.classify('openai', 'responses.create', params('Hi'), usage(2110)))).toBe('miss cold');
    h.advance(MINUTE);
    expect(outcome(h.classify('openai', 'responses.create', params('Hello'), usage(2110, 2048)))).toBe('hit');
    h.advance(MINUTE);
    const nextTurn = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Bye' }];
    expect(outcome(h.classify('openai', 'responses.create', { ...params('Hi'), input: nextTurn, instructions: perUser('Bo') }, usage(2125)))).toBe('miss prefix_changed system');
  });
});

/** Anthropic request: tools, system, messages; `marks` says which blocks carry cache_control. */
function claude(opts: { system?: string; messages: MessageParam[]; systemMark?: TextBlockParam['cache_control']; lastMark?: boolean; tools?: string[] }): MessageCreateParams {
  const messages = opts.messages.map((m, i) =>
    opts.lastMark !== false && i === opts.messages.length - 1 && typeof m.content === 'string'
      ? { ...m, content: [{ type: 'text' as const, text: m.content, cache_control: { type: 'ephemeral' as const } }] }
      : m,
  );
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    tools: (opts.tools ?? ['lookup_invoice']).map((name) => ({ name, input_schema: { type: 'object' as const } })),
    system: [{ type: 'text', text: opts.system ?? SYSTEM, ...(opts.systemMark !== undefined && { cache_control: opts.systemMark }) }],
    messages,
  };
}

describe('CacheTracker — Anthropic (explicit breakpoints, writes reported)', () => {
  const call = (h: ReturnType<typeof harness>, params: MessageCreateParams, u: CacheUsage, conversationId?: string) =>
    outcome(h.classify('anthropic', 'messages.create', params, u, conversationId));

  it('walks cold write → hit → evicted → expired → prefix_changed at system, at messages[2], at tools', () => {
    const h = harness();
    const id = 'conv-42';
    const t = turns('Why was I charged twice?', 'Let me check.', 'Thanks', 'Found it.', 'Great', 'Done.', 'Bye');

    expect(call(h, claude({ messages: t.slice(0, 1) }), usage(2160, 0, 2160), id)).toBe('write cold');
    h.advance(MINUTE);
    // The new breakpoint writes the new turn; everything the last turn cached is read.
    expect(call(h, claude({ messages: t.slice(0, 3) }), usage(2180, 2160, 20), id)).toBe('hit');
    h.advance(MINUTE);
    expect(call(h, claude({ messages: t.slice(0, 5) }), usage(2200, 0, 2200), id)).toBe('write evicted');
    h.advance(6 * MINUTE);
    expect(call(h, claude({ messages: t.slice(0, 7) }), usage(2220, 0, 2220), id)).toBe('write expired');
    h.advance(MINUTE);
    expect(call(h, claude({ system: perUser('Ann'), messages: t.slice(0, 7) }), usage(2225, 0, 2225), id)).toBe('write prefix_changed system');
    h.advance(MINUTE);
    const edited = [...t.slice(0, 2), { role: 'user' as const, content: 'EDITED' }, ...t.slice(3, 7)];
    expect(call(h, claude({ system: perUser('Ann'), messages: edited }), usage(2225, 0, 2225), id)).toBe('write prefix_changed messages[2]');
    h.advance(MINUTE);
    expect(call(h, claude({ system: perUser('Ann'), messages: edited, tools: ['lookup_invoice', 'refund'] }), usage(2240, 0, 2240), id)).toBe(
      'write prefix_changed tools',
    );
  });

  it('partial: the system breakpoint is read, the edited conversation is written again', () => {
    const h = harness();
    const mark = { type: 'ephemeral' as const };
    const t = turns('Why was I charged twice?', 'Let me check.', 'Thanks');
    expect(call(h, claude({ systemMark: mark, messages: t }), usage(2180, 0, 2180))).toBe('write cold');
    h.advance(MINUTE);
    const edited = [t[0]!, { role: 'assistant' as const, content: 'EDITED' }, t[2]!];
    expect(call(h, claude({ systemMark: mark, messages: edited }), usage(2180, 2150, 30))).toBe('partial messages[1]');
    h.advance(MINUTE);
    expect(call(h, claude({ systemMark: mark, messages: [...edited, ...turns('More', 'ok').slice(0, 1)] }), usage(2190, 2180, 10))).toBe('hit');
  });

  it('none: no cache_control, or a prefix below the minimum that the API silently did not cache', () => {
    const h = harness();
    expect(call(h, claude({ messages: turns('Hi'), lastMark: false }), usage(2120))).toBe('none');
    expect(call(h, claude({ system: 'Be brief.', messages: turns('Hi') }), usage(20))).toBe('none');
    // The estimate is only a guide: what the provider reports wins.
    expect(call(h, claude({ system: 'Be brief.', messages: turns('Hi') }), usage(20, 0, 20))).toBe('write cold');
  });

  it('a 1 h breakpoint outlives the 5 min default: evicted at 30 min, expired after an hour', () => {
    const h = harness();
    const hour = { type: 'ephemeral' as const, ttl: '1h' as const };
    const params = (q: string) => claude({ systemMark: hour, messages: turns(q), lastMark: false });
    expect(call(h, params('a'), usage(2120, 0, 2110))).toBe('write cold');
    h.advance(30 * MINUTE);
    expect(call(h, params('b'), usage(2120, 0, 2110))).toBe('write evicted');
    h.advance(61 * MINUTE);
    expect(call(h, params('c'), usage(2120, 0, 2110))).toBe('write expired');

    const h5 = harness();
    const five = (q: string) => claude({ systemMark: { type: 'ephemeral' }, messages: turns(q), lastMark: false });
    expect(call(h5, five('a'), usage(2120, 0, 2110))).toBe('write cold');
    h5.advance(30 * MINUTE);
    expect(call(h5, five('b'), usage(2120, 0, 2110))).toBe('write expired');
  });

  it('a 5 min request reading a 1 h prefix refreshes it and leaves it a 1 h entry: evicted at 30 min, not expired', () => {
    const h = harness();
    const system = (mark: { type: 'ephemeral'; ttl?: '1h' }, q: string) => claude({ systemMark: mark, messages: turns(q), lastMark: false });
    expect(call(h, system({ type: 'ephemeral', ttl: '1h' }, 'a'), usage(2120, 0, 2110))).toBe('write cold');
    h.advance(MINUTE);
    expect(call(h, system({ type: 'ephemeral' }, 'b'), usage(2120, 2110))).toBe('hit');
    h.advance(30 * MINUTE);
    expect(call(h, system({ type: 'ephemeral' }, 'c'), usage(2120, 0, 2110))).toBe('write evicted');
  });

  it('a read refreshes the TTL of the prefix it read, also when the breakpoint has moved on', () => {
    const h = harness();
    const t = turns('Why was I charged twice?', 'Let me check.', 'Thanks');
    call(h, claude({ messages: t.slice(0, 1) }), usage(2160, 0, 2160), 'a');
    h.advance(4 * MINUTE);
    // Reads the prefix ending at messages[0], whose breakpoint is gone from this request.
    expect(call(h, claude({ messages: t.slice(0, 3) }), usage(2180, 2160, 20), 'a')).toBe('hit');
    h.advance(4 * MINUTE);
    // 8 minutes after its write, 4 after its read: the messages[0] prefix is still live.
    expect(call(h, claude({ messages: [t[0]!, { role: 'assistant', content: 'Other.' }, t[2]!] }), usage(2180, 0, 2180), 'b')).toBe('write evicted');
  });

  it('a read refreshes the TTL', () => {
    const h = harness();
    const params = (q: string) => claude({ systemMark: { type: 'ephemeral' }, messages: turns(q), lastMark: false });
    call(h, params('a'), usage(2120, 0, 2110));
    for (const q of ['b', 'c', 'd']) {
      h.advance(4 * MINUTE);
      expect(call(h, params(q), usage(2120, 2110))).toBe('hit');
    }
    h.advance(4 * MINUTE);
    // 16 minutes after the write, 4 after the last read: still within the TTL.
    expect(call(h, params('e'), usage(2120, 0, 2110))).toBe('write evicted');
  });
});

function geminiParams(system: string, ...texts: string[]): GenerateContentParameters {
  return {
    model: 'gemini-2.5-flash',
    contents: texts.map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'model', parts: [{ text }] })),
    config: { systemInstruction: system },
  };
}

describe('CacheTracker — Gemini (implicit caching)', () => {
  it('walks cold → hit → evicted → expired → prefix_changed at system and at messages[1]', () => {
    const h = harness({ ttlMs: { gemini: 2 * MINUTE } });
    const id = 'g-1';
    const call = (params: GenerateContentParameters, u: CacheUsage) => outcome(h.classify('gemini', 'models.generateContent', params, u, id));
    // A long first answer: the system prompt alone is cacheable, and so is what follows it.
    const answer = 'The charge was a duplicate authorisation. '.repeat(200);

    expect(call(geminiParams('Be brief.', 'Why twice?', answer, 'Thanks'), usage(2110))).toBe('miss cold');
    h.advance(MINUTE);
    expect(call(geminiParams('Be brief.', 'Why twice?', answer, 'Thanks', 'Welcome.', 'Bye'), usage(2120, 2110))).toBe('hit');
    h.advance(MINUTE);
    expect(call(geminiParams('Be brief.', 'Why twice?', answer, 'Thanks', 'Welcome.', 'Bye', 'Bye.', 'Wait'), usage(2130))).toBe('miss evicted');
    h.advance(3 * MINUTE);
    expect(call(geminiParams('Be brief.', 'Why twice?', answer, 'Thanks', 'Welcome.', 'Bye', 'Bye.', 'Wait'), usage(2130))).toBe('miss expired');
    h.advance(MINUTE);
    expect(call(geminiParams('Customer: Ann. Be brief.', 'Why twice?', answer, 'Thanks'), usage(2115))).toBe('miss prefix_changed system');
    h.advance(MINUTE);
    // The shared part (system + first question) is below the minimum, so nothing could be read.
    expect(call(geminiParams('Customer: Ann. Be brief.', 'Why twice?', `${answer}(edited)`, 'Thanks'), usage(2117))).toBe('miss prefix_changed messages[1]');
  });
});

describe('CacheTracker — linking and concurrency', () => {
  it('links turns by their first message without a conversation id, and only by the id when given', () => {
    const anon = harness();
    anon.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, 'Hello'), usage(2110));
    anon.advance(MINUTE);
    expect(outcome(anon.classify('openai', 'chat.completions.create', openaiChat(perUser('Bo'), 'Hello', 'Hi!', 'Help'), usage(2125)))).toBe('miss prefix_changed system');

    const ided = harness();
    ided.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, 'Hello'), usage(2110), 'a');
    ided.advance(MINUTE);
    expect(outcome(ided.classify('openai', 'chat.completions.create', openaiChat(perUser('Bo'), 'Hello'), usage(2115), 'b'))).toBe('miss cold');
    expect(outcome(ided.classify('openai', 'chat.completions.create', openaiChat(perUser('Cy'), 'Hello'), usage(2115), 'a'))).toBe('miss prefix_changed system');
  });

  it('does not blame an interleaved conversation with the same opening for a miss on a known prefix', () => {
    const h = harness();
    const chat = (...texts: string[]) => openaiChat(SYSTEM, 'Hello', ...texts);
    const answerA = 'Answer A. '.repeat(100);
    expect(outcome(h.classify('openai', 'chat.completions.create', chat(answerA, 'More A'), usage(2400)))).toBe('miss cold');
    h.advance(MINUTE);
    // Linked to A by its opening (no conversation id), so it diverges from A's prefix.
    expect(outcome(h.classify('openai', 'chat.completions.create', chat('Answer B', 'More B'), usage(2200, 2112)))).toBe('partial messages[2]');
    h.advance(MINUTE);
    // A continues its own live prefix: the link to B is wrong, the reason is the eviction.
    expect(outcome(h.classify('openai', 'chat.completions.create', chat(answerA, 'More A', 'A2', 'A3'), usage(2410)))).toBe('miss evicted');
  });

  it('falls back on the conversation when its prefixes have left the LRU', () => {
    const h = harness({ maxPrefixes: 2 });
    // A short system prompt: each call stores one prefix, its whole prompt.
    const call = (id: string, q: string, u: CacheUsage) =>
      outcome(h.classify('openai', 'chat.completions.create', openaiChat('Be brief.', `${q} ${POLICY}`), u, id));
    expect(call('a', 'Hello', usage(2110))).toBe('miss cold');
    expect(call('b', 'Other', usage(2110))).toBe('miss cold');
    expect(call('b', 'Third', usage(2110))).toBe('miss prefix_changed messages[1]');
    expect(h.tracker.size).toEqual({ prefixes: 2, conversations: 2 });
    h.advance(MINUTE);
    expect(call('a', 'Hello', usage(2110))).toBe('miss evicted');
    h.advance(10 * MINUTE);
    expect(call('b', 'Third', usage(2110))).toBe('miss expired');
  });

  it('keeps the cache of each model apart: switching models mid-conversation is cold', () => {
    const h = harness();
    const t = turns('Why was I charged twice?', 'Let me check.', 'Thanks');
    expect(outcome(h.classify('anthropic', 'messages.create', claude({ messages: t.slice(0, 1) }), usage(2160, 0, 2160), 'c'))).toBe('write cold');
    h.advance(MINUTE);
    const other = { ...claude({ messages: t }), model: 'claude-haiku-4-5' };
    expect(outcome(h.classify('anthropic', 'messages.create', other, usage(2180, 0, 2180), 'c'))).toBe('write cold');
  });

  it('concurrent writers of one prefix (a stampede) are all cold, or all expired; a later call that reads nothing is evicted', () => {
    const tracker = new CacheTracker({ models: CACHE_MODELS });
    const segments = segmentsFor('anthropic', 'messages.create', claude({ messages: turns('Report for March') }));
    const t0 = Date.UTC(2026, 10, 23, 12);
    const write = usage(2120, 0, 2120);
    const at = (startedAt: number, now: number) => tracker.classify({ provider: 'anthropic', segments, usage: write, startedAt, now });
    expect(outcome(at(t0, t0 + 2_000))).toBe('write cold');
    expect(outcome(at(t0 + 10, t0 + 2_500))).toBe('write cold');
    expect(outcome(at(t0 + 20, t0 + 3_000))).toBe('write cold');
    expect(outcome(at(t0 + 5_000, t0 + 7_000))).toBe('write evicted');

    // The same prefix expired: a stampede rewriting it is expired for every writer.
    const t1 = t0 + 7_000 + 6 * MINUTE;
    expect(outcome(at(t1, t1 + 2_000))).toBe('write expired');
    expect(outcome(at(t1 + 10, t1 + 2_500))).toBe('write expired');
    expect(outcome(at(t1 + 20, t1 + 3_000))).toBe('write expired');
    expect(outcome(at(t1 + 5_000, t1 + 7_000))).toBe('write evicted');
  });

  it('fingerprints the cacheable prefix: same prefix, same hash; the text after the last breakpoint does not count', () => {
    const tracker = new CacheTracker({ models: CACHE_MODELS });
    const classify = (q: string) =>
      tracker.classify({
        provider: 'anthropic',
        segments: segmentsFor('anthropic', 'messages.create', claude({ systemMark: { type: 'ephemeral' }, messages: turns(q), lastMark: false })),
        usage: usage(2120, 0, 2110),
      });
    const a = classify('first question');
    const b = classify('second question');
    expect(a.prefixHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.prefixHash).toBe(a.prefixHash);
    // The whole prompt's fingerprint tells the two questions apart, and equal prompts alike.
    expect(b.promptHash).not.toBe(a.promptHash);
    expect(classify('first question').promptHash).toBe(a.promptHash);
    const openai = tracker.classify({ provider: 'openai', segments: segmentsFor('openai', 'chat.completions.create', openaiChat(SYSTEM, 'q')), usage: usage(2110) });
    expect(openai.prefixHash).not.toBe(a.prefixHash);
  });
});

describe('CacheTracker — what a probe of real call sequences found', () => {
  const q = 'Why was I charged twice?';
  const withTools = (system: string, tools: boolean): ChatCompletionCreateParams => ({
    ...openaiChat(system, q),
    ...(tools ? { tools: [{ type: 'function' as const, function: { name: 'lookup_invoice', parameters: { type: 'object' } } }] } : {}),
  });

  it('keeps each provider cache (scope) apart: another tenant’s first call is cold, not an eviction of the first tenant’s prefix', () => {
    const h = harness();
    const classify = (scope: string, u: CacheUsage) =>
      outcome(h.tracker.classify({ provider: 'openai', model: 'gpt-4o', scope, segments: segmentsFor('openai', 'chat.completions.create', openaiChat(SYSTEM, q)), usage: u }));
    expect(classify('https://api.openai.com tenant-a', usage(2150))).toBe('miss cold');
    h.advance(MINUTE);
    expect(classify('https://api.openai.com tenant-b', usage(2150))).toBe('miss cold');
    expect(classify('https://my-resource.openai.azure.com tenant-a', usage(2150))).toBe('miss cold');
    // The first tenant's own cache is still tracked: read nothing within the TTL, it was evicted.
    expect(classify('https://api.openai.com tenant-a', usage(2150))).toBe('miss evicted');
  });

  it('a prompt the provider counts below the minimum is not cacheable, whatever the estimate says', () => {
    const h = harness();
    // The estimate reads ~2 100 tokens; the provider counted 900 (below 1 024): no miss, and nothing remembered.
    for (let i = 0; i < 3; i++) {
      expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat(SYSTEM, q), usage(900)))).toBe('none');
      h.advance(MINUTE);
    }
  });

  it('another agent handed the same messages (its own system prompt) is not the next turn of the first: cold; its own next turn is linked', () => {
    const h = harness();
    const call = (params: ChatCompletionCreateParams, u: CacheUsage) => outcome(h.classify('openai', 'chat.completions.create', params, u));
    const router = `Route the question. ${POLICY}`;
    const answerer = `Answer the question. ${POLICY}`;
    expect(call(openaiChat(router, 'Why was I charged twice?'), usage(2150))).toBe('miss cold');
    h.advance(MINUTE);
    expect(call(openaiChat(answerer, 'Why was I charged twice?'), usage(2150))).toBe('miss cold');
    h.advance(MINUTE);
    // The answerer's conversation goes on with a per-turn system prompt: that is a change.
    expect(call(openaiChat(`${answerer} Now: 12:02.`, 'Why was I charged twice?', 'Let me check.', 'Thanks'), usage(2170))).toBe('miss prefix_changed system');
  });

  it('names a removed part where the prompt left the turn: tools dropped → tools, system dropped → system', () => {
    const h = harness();
    const call = (params: ChatCompletionCreateParams, u: CacheUsage) => outcome(h.classify('openai', 'chat.completions.create', params, u, 'conversation'));
    expect(call(withTools(SYSTEM, true), usage(2200))).toBe('miss cold');
    h.advance(MINUTE);
    expect(call(withTools(SYSTEM, false), usage(2160))).toBe('miss prefix_changed tools');
    h.advance(MINUTE);
    const noSystem: ChatCompletionCreateParams = { model: 'gpt-4o', messages: [{ role: 'user', content: `${POLICY} ${q}` }] };
    expect(call(noSystem, usage(2150))).toBe('miss prefix_changed system');
  });
});

describe('CacheTracker — options', () => {
  it('a number sets every provider: a TTL of 2 minutes expires each provider’s prefix after 3, a minimum of 64 tokens makes a short prompt eligible', () => {
    const h = harness({ ttlMs: 2 * MINUTE, minTokens: 64 });
    const short = 'Be brief. '.repeat(40); // ~100 estimated tokens: below the 1 024 default
    expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat(short, 'Hi'), usage(110)))).toBe('miss cold');
    expect(outcome(h.classify('gemini', 'models.generateContent', geminiParams(short, 'Hi'), usage(110), 'g-2'))).toBe('miss cold');
    h.advance(3 * MINUTE);
    expect(outcome(h.classify('openai', 'chat.completions.create', openaiChat(short, 'Hi', 'Hello.', 'Again'), usage(120)))).toBe('miss expired');
    expect(outcome(h.classify('gemini', 'models.generateContent', geminiParams(short, 'Hi', 'Hello.', 'Again'), usage(120), 'g-2'))).toBe('miss expired');
    // The default minimum leaves the short prompt out.
    const defaults = harness();
    expect(outcome(defaults.classify('openai', 'chat.completions.create', openaiChat(short, 'Hi'), usage(110)))).toBe('none');
  });

  it('a key nothing reads, or a value that is no number from 0 on, is named through diag, not ignored silently', () => {
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), error() {}, info() {}, debug() {}, verbose() {} };
    diag.setLogger(logger, DiagLogLevel.WARN);
    try {
      new CacheTracker({ models: CACHE_MODELS, ttlMs: { 'gcp.gemini': MINUTE }, minTokens: { openai: -1 } });
      // From a JSON or plain JavaScript config: never a throw out of the instrumentation's constructor.
      new CacheTracker({ models: CACHE_MODELS, ttlMs: null as never, minTokens: -5 });
    } finally {
      diag.disable();
    }
    expect(warnings).toEqual([
      expect.stringContaining('promptCache.ttlMs.gcp.gemini is not a provider id or lifetime (openai, anthropic, gemini, 30m, 1h, 12h): ignored'),
      expect.stringContaining('promptCache.minTokens.openai -1 is not a number from 0 on: ignored'),
      expect.stringContaining('promptCache.ttlMs null is neither a number nor an object by provider id: ignored'),
      expect.stringContaining('promptCache.minTokens -5 is not a number from 0 on: ignored'),
    ]);
  });
});
