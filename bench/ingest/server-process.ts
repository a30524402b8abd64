// The ingest service in its own process on its own chDB directory, as `llm-prism serve` runs it;
// reports its RSS (sampled every 50 ms), its event-loop delay (how long a ready callback waited),
// the longest the loop was held by its own work, how many spans otel_traces holds, and its
// group-commit and request counters, and the CPU time all its threads used (chDB's included), its
// main thread used, and its decode worker threads used (Linux: read from /proc).
import { rm } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startIngest } from '@llm-prism/ingest';
import { openStorage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { serveParent } from '../lib/child.ts';
import { threadsCpu } from '../lib/threads.ts';

const dataDir = await tempDataDir('llm-prism-bench-ingest-');
const storage = await openStorage({ dataDir });
const server = await startIngest({ port: 0, host: '127.0.0.1', storage, log: () => {} });
let rssMax = 0;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
// Event-loop delay also counts time the process waited for a core, which on a shared 2-core machine
// can be hundreds of ms. The main thread's CPU time between two ticks of a 5 ms timer is what its
// own work (JS and V8's garbage collection on that thread) held the loop.
let loopBusyMaxMs = 0;
let lastTick = process.threadCpuUsage();
const ticker = setInterval(() => {
  const cpu = process.threadCpuUsage(lastTick);
  lastTick = process.threadCpuUsage();
  loopBusyMaxMs = Math.max(loopBusyMaxMs, (cpu.user + cpu.system) / 1000);
}, 5);
const sampler = setInterval(() => {
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
}, 50);

/** CPU µs of the threads Node names `WorkerThread` (the decode pool's); undefined without /proc. */
function decodeWorkersCpuMicros(): number | undefined {
  return threadsCpu()?.reduce((sum, t) => (t.name === 'WorkerThread' ? sum + t.micros : sum), 0);
}

serveParent(
  async (m) => {
    if (m.op === 'reset') {
      rssMax = process.memoryUsage().rss;
      loopDelay.reset();
      loopBusyMaxMs = 0;
    }
    const result = await storage.client.query({ query: 'SELECT count() AS n FROM otel.otel_traces', format: 'JSONEachRow' });
    const [row] = await result.json<{ n: number | string }>();
    // Cumulative rows and inserts of the group commit, for the mean rows per insert of a round.
    const batches = (await server.metrics.batchRows.get()).values;
    const value = (name: string) => batches.find((v) => v.metricName === name)?.value ?? 0;
    const statuses = (await server.metrics.requests.get()).values.map((v) => [String(v.labels.status), v.value]);
    const insertSeconds = (await server.metrics.insertSeconds.get()).values.filter((v) => v.metricName === 'llm_prism_ingest_insert_duration_seconds_sum').reduce((sum, v) => sum + v.value, 0);
    return {
      rssMaxBytes: rssMax,
      rssBytes: process.memoryUsage().rss,
      cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
      mainThreadCpuMicros: process.threadCpuUsage().user + process.threadCpuUsage().system,
      decodeCpuMicros: decodeWorkersCpuMicros(),
      loopDelayMaxMs: loopDelay.max / 1e6,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopBusyMaxMs,
      stored: Number(row?.n),
      insertedRows: value('llm_prism_ingest_batch_rows_sum'),
      inserts: value('llm_prism_ingest_batch_rows_count'),
      insertSeconds,
      requestsByStatus: Object.fromEntries(statuses),
    };
  },
  async () => {
    clearInterval(sampler);
    clearInterval(ticker);
    loopDelay.disable();
    await server.close();
    await storage.close();
    await rm(dataDir, { recursive: true, force: true });
  },
);
process.send?.({ url: server.url });
