// The overhead benchmark's call, shared by the worker, the profiler and the replay's whole-call
// instruction count so all three measure the same thing: `chunks` one-token chunks streamed, or
// the same answer whole, through openai's client or the AI SDK (`streamText` / `generateText` on
// its OpenAI provider's chat model, which asks for the usage chunk itself).
import { scenarioHeaders } from '@llm-prism/simulator';
import type OpenAIType from 'openai';
import type { AiSdk, Loaded } from './variants.ts';

const messages = [{ role: 'user' as const, content: 'Summarise the benchmark in two hundred words.' }];

/** One call; resolves with the text chunks (streamed) or answers (not streamed) the application read. */
export type BenchCall = (mode: 'stream' | 'nonstream', chunks?: number) => Promise<number>;

export interface ClientOptions {
  baseURL: string;
  maxRetries: number;
  fetch?: typeof fetch;
}

/**
 * `calls` calls of `call`, `concurrency` of them in flight at once (as the benchmark's blocks keep
 * them); resolves with the sum of what they read.
 */
export async function inFlight(call: () => Promise<number>, calls: number, concurrency: number): Promise<number> {
  let started = 0;
  let read = 0;
  const lane = async () => {
    while (started < calls) {
      started++;
      const n = await call(); // not `read += await …`: that reads the sum before the await
      read += n;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, lane));
  return read;
}

/** The benchmark's call through the variant's client, made against `baseURL`. */
export function benchCaller(client: Loaded['client'], options: ClientOptions): BenchCall {
  return 'ai' in client ? aiCaller(client.ai, options) : openaiCaller(openaiClient(client, options));
}

/** openai's client (`Loaded['client']` of the openai variants); the memory and request-latency benchmarks call it their own way. */
export function openaiClient(client: Loaded['client'], options: ClientOptions): OpenAIType {
  if ('ai' in client) throw new Error('this benchmark calls openai\'s client, not the AI SDK');
  return new client.OpenAI({ ...options, apiKey: 'bench' });
}

const headersOf = (chunks: number) => scenarioHeaders({ chunks, tokensPerChunk: 1, chunkIntervalMs: 0 });

function openaiCaller(client: OpenAIType): BenchCall {
  return async (mode, chunks = 200) => {
    const options = { headers: headersOf(chunks) };
    if (mode === 'nonstream') {
      const completion = await client.chat.completions.create({ model: 'gpt-4o', messages }, options);
      return completion.choices[0]?.message.content ? 1 : 0;
    }
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }, options);
    let read = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) read++;
    return read;
  };
}

function aiCaller(ai: AiSdk, { baseURL, maxRetries, fetch }: ClientOptions): BenchCall {
  const model = ai.createOpenAI({ baseURL, apiKey: 'bench', fetch }).chat('gpt-4o');
  return async (mode, chunks = 200) => {
    const request = { model, messages, maxRetries, headers: headersOf(chunks) };
    if (mode === 'nonstream') return (await ai.generateText(request)).text ? 1 : 0;
    let read = 0;
    for await (const text of ai.streamText(request).textStream) if (text) read++;
    return read;
  };
}
