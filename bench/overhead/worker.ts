// One variant in one process: answers "round" requests with the CPU and wall time of `calls`
// sequential calls against the simulator (span export flushed inside the measured time).
import { scenarioHeaders } from '@llm-prism/simulator';
import { serveParent } from '../lib/child.ts';
import { loadVariant, type Variant } from './variants.ts';

export interface RoundRequest {
  mode: 'stream' | 'nonstream';
  calls: number;
  chunks: number;
}
export interface RoundResult {
  cpuUs: number;
  wallMs: number;
  /** Spans exported during the round (null for the bare SDK). */
  spans: number | null;
  /** Text chunks the application read, summed over the round's calls. */
  outputChunks: number;
}

const variant = process.argv[2] as Variant;
const baseURL = process.argv[3] as string;
const loaded = await loadVariant(variant);
const client = new loaded.OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 });
const messages = [{ role: 'user' as const, content: 'Summarise the benchmark in two hundred words.' }];

async function call(req: RoundRequest): Promise<number> {
  const options = { headers: scenarioHeaders({ chunks: req.chunks, tokensPerChunk: 1, chunkIntervalMs: 0 }) };
  if (req.mode === 'nonstream') {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages }, options);
    return completion.choices[0]?.message.content ? 1 : 0;
  }
  const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }, options);
  let chunks = 0;
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) chunks++;
  return chunks;
}

serveParent(async (m) => {
  const req = m as unknown as RoundRequest;
  const spans0 = loaded.exported();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let outputChunks = 0;
  for (let i = 0; i < req.calls; i++) outputChunks += await call(req);
  await loaded.flush();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const spans1 = loaded.exported();
  const result: RoundResult = {
    cpuUs: cpu.user + cpu.system,
    wallMs,
    spans: spans0 === null || spans1 === null ? null : spans1 - spans0,
    outputChunks,
  };
  return result;
});
process.send?.({ ready: variant });
