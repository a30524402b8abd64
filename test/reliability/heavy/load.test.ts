// Load with nothing lost: the ingest (`llm-prism serve`, a child process on embedded chDB) is first
// driven to saturation to measure its capacity, then four applications export through the official
// OTLP protobuf exporter at 80 % of it. Every span created must be acknowledged and stored once.
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, expect, test } from 'vitest';
import { drain, loadClient, measureCapacity, newLedger, pacedLoad } from '../load-clients.ts';
import { freePort, startServe, stopServe, type ServeProcess } from '../../../packages/cli/test/serve-process.ts';
import { report, tally } from '../tally.ts';

const CLIENTS = 4;
const LOAD_MS = Number(process.env.LLM_PRISM_RELIABILITY_LOAD_MS ?? 10_000);

let serve: ServeProcess | undefined;
let storage: Storage | undefined;
afterAll(async () => {
  if (serve) await stopServe(serve);
  await storage?.close();
});

test('four exporters at 80 % of the measured capacity: every span stored exactly once', async () => {
  const dataDir = await tempDataDir();
  serve = await startServe({ dataDir, port: await freePort() });

  const capacity = await measureCapacity(serve.url, CLIENTS, 3_000);
  const target = Math.round(capacity * 0.8);

  const ledger = newLedger();
  const clients = Array.from({ length: CLIENTS }, (_, i) => loadClient(serve!.url, `load-${i}`, ledger));
  const t0 = performance.now();
  const paced = await pacedLoad(clients, ledger, target, LOAD_MS);
  await drain(clients);
  const drainedMs = performance.now() - t0;

  expect(await stopServe(serve)).toBe(0);
  storage = await openStorage({ dataDir });
  const t = await tally(storage, ledger, 'load-');
  const offered = (paced.created * 1000) / paced.elapsedMs;
  report('load', {
    capacitySpansPerS: Math.round(capacity),
    targetSpansPerS: target,
    offeredSpansPerS: Math.round(offered),
    storedSpansPerS: Math.round((t.stored * 1000) / drainedMs),
    loadMs: Math.round(paced.elapsedMs),
    drainMs: Math.round(drainedMs - paced.elapsedMs),
    ...t,
  });

  expect(capacity).toBeGreaterThan(0);
  // The pacing really offered about 80 % of capacity.
  expect(offered).toBeGreaterThan(target * 0.65);
  expect(offered).toBeLessThan(target * 1.35);
  expect(t.created).toBe(paced.created);
  expect(t.exported).toBe(t.created);
  expect(t.acked).toBe(t.created);
  expect(ledger.failed.size).toBe(0);
  expect(t.stored).toBe(t.created);
  expect(t.lostAcked).toBe(0);
  expect(t.duplicated).toBe(0);
  expect(t.llmCalls).toBe(ledger.calls.size);
  expect(t.ttftRollup).toBe(ledger.calls.size);
  expect(t.completionRollup).toBe(ledger.calls.size);
});
