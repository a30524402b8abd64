// Memory growth over many calls, in its own process (run with --expose-gc): heapUsed after a full
// GC at checkpoints while `calls` short streamed calls run with a fixed concurrency. Spans go
// through a BatchSpanProcessor to a discarding exporter, as in production minus the network.
// Also the heap per call in flight: many calls held open at once, heapUsed after a GC minus idle.
import { scenarioHeaders } from '@llm-prism/simulator';
import { serveParent } from '../lib/child.ts';
import { openaiClient } from './bench-call.ts';
import { loadVariant, type Variant } from './variants.ts';

export interface MemoryRequest {
  calls: number;
  checkpoints: number;
  concurrency: number;
  chunks: number;
}
/** Heap per call in flight: `calls` streamed calls all open at once, each past its first chunk and waiting for the next. */
export interface InFlightRequest {
  inFlight: number;
  /** How long each call then waits for its next chunk; longer than starting all of them takes. */
  holdMs: number;
}
export interface InFlightResult {
  /** heapUsed after a full GC with every call in flight, minus the same with none. */
  bytesPerCall: number;
}
export interface MemoryResult {
  checkpoints: { calls: number; heapUsedBytes: number; rssBytes: number; elapsedMs: number }[];
  spans: number | null;
  failures: number;
}

const exposedGc = globalThis.gc;
if (exposedGc === undefined) throw new Error('run with --expose-gc');
const gc: () => void = () => void exposedGc();
const variant = process.argv[2] as Variant;
const baseURL = process.argv[3] as string;
const loaded = await loadVariant(variant);
const client = openaiClient(loaded.client, { baseURL, maxRetries: 0 });

async function inFlight(req: InFlightRequest): Promise<InFlightResult> {
  const options = { headers: scenarioHeaders({ chunks: 2, tokensPerChunk: 1, prefillMs: 0, chunkIntervalMs: req.holdMs }) };
  await loaded.flush();
  gc();
  const before = process.memoryUsage().heapUsed;
  let started = 0;
  let allStarted!: () => void;
  const everyCallStarted = new Promise<void>((resolve) => (allStarted = resolve));
  const calls = Array.from({ length: req.inFlight }, async (_, i) => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: `call ${i}` }], stream: true, stream_options: { include_usage: true } },
      options,
    );
    let first = true;
    for await (const _ of stream) {
      if (first && ++started === req.inFlight) allStarted();
      first = false;
    }
  });
  await everyCallStarted;
  gc();
  const during = process.memoryUsage().heapUsed;
  await Promise.all(calls);
  return { bytesPerCall: (during - before) / req.inFlight };
}

serveParent(async (m) => {
  if ('inFlight' in m) return inFlight(m as unknown as InFlightRequest);
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
