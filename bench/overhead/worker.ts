// One variant in one process: answers "round" requests with the CPU and wall time of `calls`
// sequential calls against the simulator (span export flushed inside the measured time).
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveParent } from '../lib/child.ts';
import { threadsCpu } from '../lib/threads.ts';
import { benchCaller, inFlight } from './bench-call.ts';
import { loadVariant, type Variant } from './variants.ts';

export interface RoundRequest {
  mode: 'stream' | 'nonstream';
  calls: number;
  /** Calls in flight at once (each on its own connection). */
  concurrency: number;
  chunks: number;
}
export interface RoundResult {
  cpuUs: number;
  /**
   * The process's CPU time since it started, at the start and at the end of the block: between
   * blocks the process is idle but for background work a block left behind (V8's concurrent GC and
   * compilation, timers), which the block's own figure misses and these catch.
   */
  cpuSinceStartUs: { atStart: number; atEnd: number };
  wallMs: number;
  /** Spans exported during the round (null for the bare SDK). */
  spans: number | null;
  /** Text chunks the application read, summed over the round's calls. */
  outputChunks: number;
  /**
   * read(2) calls the process made in the round (/proc/self/io `syscr`): about one per network
   * read. A client that falls behind the simulator finds several chunks per read and wakes up less
   * often, which lowers its CPU per chunk: a slower variant can look cheaper. Equal counts show
   * the variants were compared on the same network pattern.
   */
  reads: number;
  /**
   * The block's CPU time on the main thread and on the process's other threads (V8's compiler and
   * GC workers, libuv's pool): work no JavaScript profile of the main thread shows (V8 compiling
   * the hot code on its workers dominated the CPU of an instrumented process's first calls).
   */
  threadsCpuUs: { main: number; others: number };
  /**
   * Collections that started inside the block: scavenges (young generation) and the rest
   * (mark-compacts and their incremental finishing). V8 sizes the young generation by what
   * survives and by how long a process idles between blocks, so two processes of the same code can
   * run a block at 1 scavenge or at 10 (bench/README.md, seventh to ninth looks).
   */
  gcs: { scavenges: number; others: number };
}

const readCalls = (): number => Number(/syscr:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);

/** CPU µs so far of the main thread and of the other threads (NaN without /proc, as readCalls). */
function threadsCpuUs(): { main: number; others: number } {
  const threads = threadsCpu();
  if (threads === undefined) return { main: Number.NaN, others: Number.NaN };
  const cpu = { main: 0, others: 0 };
  for (const t of threads) {
    if (t.tid === process.pid) cpu.main += t.micros;
    else cpu.others += t.micros;
  }
  return cpu;
}

const variant = process.argv[2] as Variant;
const baseURL = process.argv[3] as string;
const loaded = await loadVariant(variant);
const benchCall = benchCaller(loaded.client, { baseURL, maxRetries: 0 });
const call = (req: RoundRequest): Promise<number> => benchCall(req.mode, req.chunks);

/** Start times and kinds of the process's garbage collections (entries arrive after each collection). */
const collections: { at: number; scavenge: boolean }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) collections.push({ at: e.startTime, scavenge: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR });
}).observe({ entryTypes: ['gc'] });

serveParent(async (m) => {
  const req = m as unknown as RoundRequest;
  // Primer, not measured: as many short calls at once as the block keeps in flight. A process waits
  // several seconds between its blocks, longer than the keep-alive of its connections (undici 4 s,
  // the server 5 s), and baselines shared by several comparisons run more often than the variants;
  // without it a block would pay for reconnecting and cold caches depending on how long its process
  // had been idle.
  await Promise.all(Array.from({ length: req.concurrency }, () => call({ ...req, chunks: 2 })));
  await loaded.flush();
  const spans0 = loaded.exported();
  const reads0 = readCalls();
  const threads0 = threadsCpuUs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const outputChunks = await inFlight(() => call(req), req.calls, req.concurrency);
  await loaded.flush();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const total = (c: NodeJS.CpuUsage) => c.user + c.system;
  const reads = readCalls() - reads0;
  const threads = threadsCpuUs();
  const spans1 = loaded.exported();
  // The observer hears of a collection a few turns of the event loop after it (outside the measured time).
  await sleep(20);
  const inBlock = collections.filter((c) => c.at >= t0 && c.at <= t0 + wallMs);
  collections.length = 0;
  const result: RoundResult = {
    cpuUs: total(cpu),
    cpuSinceStartUs: { atStart: total(cpu0), atEnd: total(cpu0) + total(cpu) },
    wallMs,
    spans: spans0 === null || spans1 === null ? null : spans1 - spans0,
    outputChunks,
    reads,
    threadsCpuUs: { main: threads.main - threads0.main, others: threads.others - threads0.others },
    gcs: { scavenges: inBlock.filter((c) => c.scavenge).length, others: inBlock.filter((c) => !c.scavenge).length },
  };
  return result;
});
process.send?.({ ready: variant });
