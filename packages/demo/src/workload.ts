// The demo's traffic: a steady mix of providers, models and call shapes, plus the incidents a
// user should then find in the report. Time is expressed as a fraction of the run so a shortened
// run (tests) keeps every incident.
import type { ChatRequest } from './chat-request.ts';

export interface Incident {
  name: string;
  from: number;
  to: number;
}

/** Injected incidents and when (as fractions of the run) they happen. */
export const incidents = {
  slowPrefill: { name: 'slow prefill on gpt-4o', from: 0.25, to: 0.5 },
  eviction: { name: 'Anthropic evicts the warm conversation prefix', from: 0.45, to: 0.45 },
  rateLimits: { name: 'burst of 429s on OpenAI', from: 0.6, to: 0.7 },
  personalization: { name: 'per-user text prepended to the system prompt', from: 0.75, to: 1 },
} as const satisfies Record<string, Incident>;

export const SLOW_PREFILL_MODEL = 'gpt-4o';

/** A long, stable system prompt: well above the providers' 1024-token caching minimum. */
export const SUPPORT_SYSTEM_PROMPT = [
  'You are the support assistant of Acme Cloud. Answer briefly and cite the relevant policy.',
  ...Array.from({ length: 60 }, (_, i) => `Policy ${i + 1}: requests of category ${i + 1} are handled within ${(i % 5) + 1} business days, escalations go to tier ${(i % 3) + 1}.`),
].join('\n');

/** Small deterministic PRNG so every demo run sends the same traffic. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const shapes: Pick<ChatRequest, 'api' | 'model' | 'stream' | 'tools' | 'route'>[] = [
  { api: 'openai.chat', model: 'gpt-4o', stream: true, route: '/chat' },
  { api: 'openai.chat', model: 'gpt-4o-mini', stream: true, route: '/chat' },
  { api: 'openai.responses', model: 'gpt-4.1-mini', stream: true, route: '/chat' },
  { api: 'anthropic.messages', model: 'claude-sonnet-5', stream: true, route: '/chat' },
  { api: 'gemini.generateContent', model: 'gemini-2.5-flash', stream: true, route: '/chat' },
  { api: 'openai.chat', model: 'gpt-4o-mini', stream: false, route: '/summarize' },
  { api: 'openai.chat', model: 'gpt-4o', stream: true, tools: true, route: '/agent' },
  { api: 'anthropic.messages', model: 'claude-sonnet-5', stream: true, tools: true, route: '/agent' },
  { api: 'ai-sdk.streamText', model: 'gpt-4.1', stream: true, route: '/assistant' },
];

const within = (at: number, i: Incident) => at >= i.from && at < i.to;

/** One background request at time fraction `at` (0–1). */
export function backgroundRequest(n: number, at: number, rand: () => number): ChatRequest {
  const shape = shapes[n % shapes.length]!;
  const scenario: Record<string, unknown> = {
    queueMs: 20 + Math.round(rand() * 60),
    prefillMs: 120 + Math.round(rand() * 200),
    chunks: 12 + Math.round(rand() * 12),
    chunkIntervalMs: 10 + Math.round(rand() * 15),
    tokensPerChunk: 3,
  };
  if (shape.model === SLOW_PREFILL_MODEL && within(at, incidents.slowPrefill)) {
    scenario.prefillMs = 1800 + Math.round(rand() * 600);
  }
  if (shape.tools) {
    scenario.toolCalls = [{ name: 'get_weather', arguments: '{"city":"Lisbon"}', fragments: 4 }];
    scenario.finishReason = 'tool_calls';
  }
  let stopAfterChunks: number | undefined;
  const roll = rand();
  if (roll < 0.06) Object.assign(scenario, { failAfterChunks: 4, failMode: 'error_event' });
  else if (roll < 0.09) Object.assign(scenario, { failAfterChunks: 4, failMode: 'drop' });
  else if (roll < 0.16) scenario.finishReason = 'length';
  else if (roll < 0.19 && shape.stream) stopAfterChunks = 3;
  if (shape.api.startsWith('openai') && within(at, incidents.rateLimits)) {
    scenario.httpErrors = { status: 429, count: 2, retryAfterS: 0.2 };
  }
  if (!shape.api.startsWith('gemini')) {
    // Headroom shrinks towards the 429 burst (Gemini sends no rate-limit headers).
    const used = Math.min(1, at / incidents.rateLimits.from);
    scenario.rateLimit = { requestsLimit: 500, requestsRemaining: Math.round(500 * (1 - 0.95 * used)), tokensLimit: 400_000, tokensRemaining: Math.round(400_000 * (1 - 0.7 * used)) };
  }
  return {
    ...shape,
    system: 'You are a helpful assistant.',
    messages: [{ role: 'user', content: `Question ${n}: what is the status of order ${1000 + n}?` }],
    ...(stopAfterChunks ? { stopAfterChunks } : {}),
    scenario,
  };
}

/** Turn `turn` of the long support conversation on Anthropic, which relies on prompt caching. */
export function conversationTurn(turn: number, at: number): ChatRequest {
  const messages: ChatRequest['messages'] = [];
  for (let i = 0; i < turn; i++) {
    messages.push({ role: 'user', content: `Turn ${i}: my deployment ${i} is slow.` });
    messages.push({ role: 'assistant', content: `Checked deployment ${i}: it is healthy.` });
  }
  messages.push({ role: 'user', content: `Turn ${turn}: my deployment ${turn} is slow.` });
  const personalized = within(at, incidents.personalization);
  return {
    api: 'anthropic.messages',
    model: 'claude-sonnet-5',
    stream: true,
    route: '/support',
    conversationId: 'support-conversation-1',
    system: personalized ? `The user is Dana (premium plan).\n${SUPPORT_SYSTEM_PROMPT}` : SUPPORT_SYSTEM_PROMPT,
    messages,
    scenario: { queueMs: 30, prefillMs: 200, chunks: 15, chunkIntervalMs: 15, tokensPerChunk: 3 },
  };
}
