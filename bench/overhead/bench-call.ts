// The overhead benchmark's call, shared by the worker, the profiler and the replay's whole-call
// instruction count so all three measure the same thing: `chunks` one-token chunks streamed, or
// the same answer whole.
import { scenarioHeaders } from '@llm-prism/simulator';
import type { Loaded } from './variants.ts';

const messages = [{ role: 'user' as const, content: 'Summarise the benchmark in two hundred words.' }];

/** One call; returns the text chunks (streamed) or answers (not streamed) the application read. */
export async function benchCall(client: InstanceType<Loaded['OpenAI']>, mode: 'stream' | 'nonstream', chunks = 200): Promise<number> {
  const options = { headers: scenarioHeaders({ chunks, tokensPerChunk: 1, chunkIntervalMs: 0 }) };
  if (mode === 'nonstream') {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages }, options);
    return completion.choices[0]?.message.content ? 1 : 0;
  }
  const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }, options);
  let read = 0;
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) read++;
  return read;
}
