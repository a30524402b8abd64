// Memory growth over many calls, in its own process (run with --expose-gc): heapUsed after a full
// GC at checkpoints while `calls` short streamed calls run with a fixed concurrency. Spans go
// through a BatchSpanProcessor to a discarding exporter, as in production minus the network.
import { scenarioHeaders } from '@llm-prism/simulator';
import { serveParent } from '../lib/child.ts';
import { loadVariant, type Variant } from './variants.ts';

export interface MemoryRequest {
  calls: number;
  checkpoints: number;
  concurrency: number;
  chunks: number;
}
export interface MemoryResult {
  checkpoints: { calls: number; heapUsedBytes: number; rssBytes: number; elapsedMs: number }[];
  spans: number | null;
  failures: number;
}

const gc = globalThis.gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const variant = process.argv[2] as Variant;
const baseURL = process.argv[3] as string;
const loaded = await loadVariant(variant);
const client = new loaded.OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 });

serveParent(async (m) => {
  const req = m as unknown as MemoryRequest;
  const options = { headers: scenarioHeaders({ chunks: req.chunks, tokensPerChunk: 1, chunkIntervalMs: 0 }) };
  const every = Math.floor(req.calls / req.checkpoints);
  const checkpoints: MemoryResult['checkpoints'] = [];
  let started = 0;
  let failures = 0;
  const t0 = performance.now();
  const sample = async (calls: number) => {
    await loaded.flush();
    gc();
    const mem = process.memoryUsage();
    checkpoints.push({ calls, heapUsedBytes: mem.heapUsed, rssBytes: mem.rss, elapsedMs: performance.now() - t0 });
  };
  await sample(0);
  for (let done = 0; done < req.calls; done += every) {
    // Each checkpoint waits for all its calls, so the heap is sampled with nothing in flight.
    const end = Math.min(req.calls, done + every);
    const worker = async () => {
      while (started < end) {
        started++;
        try {
          const stream = await client.chat.completions.create(
            { model: 'gpt-4o', messages: [{ role: 'user', content: `call ${started}` }], stream: true, stream_options: { include_usage: true } },
            options,
          );
          for await (const _ of stream);
        } catch {
          failures++;
        }
      }
    };
    await Promise.all(Array.from({ length: req.concurrency }, worker));
    await sample(end);
  }
  const result: MemoryResult = { checkpoints, spans: loaded.exported(), failures };
  return result;
});
process.send?.({ ready: variant });
