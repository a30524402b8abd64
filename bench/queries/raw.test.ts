// The raw variant must answer the same questions as the derived tables: on a small generated data
// set, every committed dashboard and alert query gives the same rows both ways.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ALL, expandMacros } from '@llm-prism/grafana';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { ROOT } from '../lib/results.ts';
import { loadCatalog } from './catalog.ts';
import { generateCalls } from './generate.ts';
import { compareRows } from './compare.ts';
import { rawRewriter } from './raw.ts';

const END = Date.UTC(2026, 10, 23);
let storage: Storage;
let dataDir: string;

beforeAll(async () => {
  dataDir = await tempDataDir('llm-prism-bench-raw-');
  storage = await openStorage({ dataDir });
});
afterAll(async () => {
  await storage?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

const rows = async (sql: string) => (await storage.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();

it('generates the calls asked for, spread over the whole period, and the views derive every one', async () => {
  const result = await generateCalls(storage, { calls: 20_000, end: END, days: 30, chunks: 4, budgetSeconds: 600 });
  expect(result.calls).toBe(20_000);
  const [c] = await rows(`SELECT count() AS n, min(Timestamp) AS lo, max(Timestamp) AS hi, uniqExact(TraceId) AS traces FROM otel.llm_calls`);
  expect(Number(c?.n)).toBe(20_000);
  expect(Number(c?.traces)).toBe(20_000);
  expect(Date.parse(`${String(c?.lo)}Z`)).toBeLessThan(END - 29.9 * 86_400_000);
  expect(Date.parse(`${String(c?.hi)}Z`)).toBeGreaterThan(END - 0.1 * 86_400_000);
  const [r] = await rows('SELECT sum(Calls) AS n FROM otel.llm_completion_counts');
  // Every call but one counted by its deadline report (docs/clickhouse.md, migration 9).
  const [a] = await rows('SELECT countIf(TtftDeadlineExceeded = 0) AS n FROM otel.llm_calls');
  expect(Number(r?.n)).toBe(Number(a?.n));
});

it('answers every dashboard and alert query the same from otel_traces as from the derived tables', async () => {
  const toRaw = await rawRewriter(storage);
  const catalog = await loadCatalog(ROOT);
  expect(catalog.filter((q) => q.kind === 'alert').length).toBeGreaterThan(0);
  let compared = 0;
  // Hourly buckets read the hourly rollups; 2-minute ones the minute rollups, replaced as well.
  for (const intervalMs of [3_600_000, 120_000]) {
    for (const q of catalog) {
      const sql = expandMacros(q.sql, { from: END - 86_400_000, to: END, intervalMs, vars: { service: ALL, model: ALL, trace_id: '' } });
      const raw = toRaw(sql, intervalMs);
      const derived = intervalMs === 120_000 ? /\botel\.llm_(calls|ttft_counts|completion_counts|cost_minutes|latency_minutes)\b/ : /\botel\.llm_(calls|ttft_counts|completion_counts)\b/;
      if (derived.test(sql)) expect(raw, q.name).not.toMatch(derived);
      // quantile() samples, so its answers may differ slightly between the two plans.
      const expected = /quantile\(/.test(sql) ? ['same', 'approx'] : ['same'];
      expect(expected, `${q.name} at ${intervalMs} ms`).toContain(compareRows(await rows(raw), await rows(sql)));
      compared++;
    }
  }
  expect(compared).toBeGreaterThan(80);
});
