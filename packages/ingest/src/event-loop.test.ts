// A large request must not stall the server: its body is decoded in a worker thread and its rows
// come back and are encoded for the insert in slices, so /healthz keeps answering while 20 000
// spans are decoded, converted and stored. Before the decode workers one such request held the
// event loop for 1.35 s on an idle machine (and several seconds on a loaded one).
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startIngest, type IngestServer } from './server.ts';
import type { BigRequestData, BigRequestReply } from '../test/big-request-client.ts';
import { randomTraceId } from '../test/requests.ts';

/**
 * The longest the test tolerates between two /healthz answers while the request is in progress.
 * The design goal is < 50 ms of work per turn (bench/ingest measures it); this bound leaves room
 * for a loaded 2-core machine that preempts the process, and still fails when a step of the
 * request runs in one piece (decoding alone takes over a second).
 */
const MAX_GAP_MS = 1000;
/**
 * The most CPU time the main thread may spend between two ticks of a 5 ms timer: how long one
 * stretch of its own work held the loop, whatever the load (time waiting for a core is not CPU
 * time). The design goal is 50 ms (about 20 ms measured here); decoding and converting these
 * 20 000 spans in place took 260 ms of CPU in one stretch.
 */
const MAX_BUSY_MS = 150;
const SPANS = 20_000;

let storage: Storage;
let server: IngestServer;

beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  server = await startIngest({ port: 0, storage, log: () => {} });
});

afterAll(async () => {
  await server?.close();
  await storage?.close();
});

/**
 * The request (spans of 20 attributes, ~12 MB, under the default 16 MiB limit) is built and sent
 * from a worker thread: sent from this thread, undici's copies of the body held it for 80 ms, and
 * up to 200 ms when a collection of the spans' garbage fell in the same stretch, charged to the server.
 */
async function bigRequestClient(data: BigRequestData): Promise<{ worker: Worker; bytes: number }> {
  const worker = new Worker(new URL('../test/big-request-client.ts', import.meta.url), {
    workerData: data,
    execArgv: [...process.execArgv, '--conditions=llm-prism-source'],
  });
  const [reply] = (await once(worker, 'message')) as [BigRequestReply];
  if (!('ready' in reply)) throw new Error('the client worker answered before it was ready');
  return { worker, bytes: reply.ready };
}

test(`/healthz answers throughout a ${SPANS}-span request`, async () => {
  const traceId = randomTraceId();
  const client = await bigRequestClient({ url: `${server.url}/v1/traces`, traceId, spans: SPANS });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let busyMaxMs = 0;
  let lastTick = process.threadCpuUsage();
  const ticker = setInterval(() => {
    const cpu = process.threadCpuUsage(lastTick);
    lastTick = process.threadCpuUsage();
    busyMaxMs = Math.max(busyMaxMs, (cpu.user + cpu.system) / 1000);
  }, 5);
  let done = false;
  const answers: number[] = [];
  const poll = async () => {
    for (let i = 0; !done && i < 10_000; i++) {
      const response = await fetch(`${server.url}/healthz`);
      expect(await response.text()).toBe('ok');
      answers.push(performance.now());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const started = performance.now();
  const polling = poll();
  client.worker.postMessage('send');
  const [reply] = (await once(client.worker, 'message')) as [BigRequestReply];
  const finished = performance.now();
  await client.worker.terminate();
  done = true;
  clearInterval(ticker);
  await polling;
  delay.disable();
  expect(reply).toEqual({ status: 200 });

  const during = [started, ...answers.filter((t) => t > started && t < finished), finished];
  const gaps = during.slice(1).map((t, i) => t - (during[i] as number));
  const maxGap = Math.max(...gaps);
  console.log(
    `${SPANS} spans (${(client.bytes / 1e6).toFixed(1)} MB) in ${(finished - started).toFixed(0)} ms: ${during.length - 2} /healthz answers meanwhile, ` +
      `longest gap ${maxGap.toFixed(0)} ms; loop held by own work at most ${busyMaxMs.toFixed(0)} ms; event loop delay max ${(delay.max / 1e6).toFixed(0)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms`,
  );
  expect(during.length - 2).toBeGreaterThanOrEqual(3);
  expect(maxGap).toBeLessThan(MAX_GAP_MS);
  expect(busyMaxMs).toBeLessThan(MAX_BUSY_MS);

  const [row] = await (
    await storage.client.query({ query: `SELECT count() AS n FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`, query_params: { t: traceId }, format: 'JSONEachRow' })
  ).json<{ n: string }>();
  expect(Number(row?.n)).toBe(SPANS);
});
