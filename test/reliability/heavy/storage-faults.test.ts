// Storage faults during load: otel_traces is detached (every insert fails for real inside
// ClickHouse) and attached again three times while three applications export. Ingest answers 503
// with Retry-After and acknowledges nothing it did not store; the exporters retry. No acknowledged
// span may be lost, and llm_calls and the rollups count every call once.
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startIngest, type IngestServer } from '../../../packages/ingest/src/index.ts';
import { drain, loadClient, newLedger, pacedLoad } from '../load-clients.ts';
import { report, tally } from '../tally.ts';
import { scrapeMetric } from '../../../packages/ingest/test/requests.ts';

const RATE = 1_500;
const LOAD_MS = 10_000;
const OUTAGES = 3;
const UP_MS = 1_500;
const DOWN_MS = 1_200;

let storage: Storage;
let server: IngestServer;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  server = await startIngest({ port: 0, storage, retryAfterSeconds: 1, log: () => {} });
});
afterAll(async () => {
  await storage?.client.command({ query: `ATTACH TABLE IF NOT EXISTS ${storage.database}.otel_traces` }).catch(() => {});
  await server?.close();
  await storage?.close();
});

const metric = (name: string) => scrapeMetric(server.url, name);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('otel_traces detached three times during load: nothing acknowledged is lost, nothing counted twice', async () => {
  const ledger = newLedger();
  const clients = Array.from({ length: 3 }, (_, i) => loadClient(server.url, `faults-${i}`, ledger));
  const load = pacedLoad(clients, ledger, RATE, LOAD_MS);

  // Spans ingest counted as stored while the table was gone, after a grace period for an insert
  // that began before DETACH.
  const storedWhileDown: number[] = [];
  for (let i = 0; i < OUTAGES; i++) {
    await sleep(UP_MS);
    await storage.client.command({ query: `DETACH TABLE ${storage.database}.otel_traces` });
    await sleep(300);
    const stored = await metric('llm_prism_ingest_spans_stored_total');
    await sleep(DOWN_MS - 300);
    storedWhileDown.push((await metric('llm_prism_ingest_spans_stored_total')) - stored);
    await storage.client.command({ query: `ATTACH TABLE ${storage.database}.otel_traces` });
  }
  const paced = await load;
  await drain(clients);

  const t = await tally(storage, ledger, 'faults-');
  const refused503 = await metric('llm_prism_ingest_requests_total{status="503"}');
  const rejectedUnavailable = await metric('llm_prism_ingest_spans_rejected_total{reason="storage_unavailable"}');
  report('storage-faults', { outages: OUTAGES, downMs: DOWN_MS, refused503, rejectedUnavailable, storedWhileDown, exportsGivenUp: ledger.failed.size, ...t });

  expect(refused503).toBeGreaterThanOrEqual(OUTAGES);
  expect(storedWhileDown).toEqual(Array(OUTAGES).fill(0));
  expect(t.created).toBe(paced.created);
  expect(t.lostAcked).toBe(0);
  // 503 means not stored, so a retry never duplicates a row.
  expect(t.duplicated).toBe(0);
  expect(t.llmCalls).toBe(t.callsStored);
  expect(t.ttftRollup).toBe(t.callsStored);
  expect(t.completionRollup).toBe(t.callsStored);
  expect(await metric('llm_prism_ingest_spans_stored_total')).toBe(t.stored);
});
