// A burn rate exactly at a rule's rate is not above it. With objective 0.9 the error budget
// (1 − 0.9) is 0.09999999999999998 in Float64: 11 bad calls of 20 burned 5.500000000000002 and
// fired a page "above 5.5" (found by a probe of the generated rules). The burn-rate SQL of
// sli-sql.ts over chDB, seeded through otel_traces.
import { rm } from 'node:fs/promises';
import { formatTimestamp, openStorage, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseSloConfig } from './config.ts';
import { alertPolicy } from './policy.ts';
import { budgetRemainingSql, burnDownSql, burnRatesSql } from './sli-sql.ts';

const END = Date.UTC(2026, 10, 25, 12, 0, 0);
/** Calls in the 5 minutes before END, of which `bad` miss the 500 ms TTFT; the burn each must read exactly. */
const CASES = [
  { service: 'eleven-of-20', calls: 20, bad: 11, burn: 5.5 },
  { service: 'three-of-10', calls: 10, bad: 3, burn: 3 },
  { service: 'three-of-25', calls: 25, bad: 3, burn: 1.2 },
  { service: 'twelve-of-20', calls: 20, bad: 12, burn: 6 }, // above the page's 5.5
  { service: 'one-of-10', calls: 10, bad: 1, burn: 1 }, // the whole budget, exactly
];
const config = parseSloConfig(`
window: 28d
slos:
${CASES.map((c) => `  - service: ${c.service}\n    ttft: { thresholdMs: 500, objective: 0.9 }\n    completion: { thresholdMs: 20000, objective: 0.99 }`).join('\n')}
`);

let storage: Storage;
let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDataDir('llm-prism-burn-');
  storage = await openStorage({ dataDir });
  let n = 0;
  const hex = (width: number): string => (++n).toString(16).padStart(width, '0');
  await storage.insertSpans(
    CASES.flatMap((c) =>
      Array.from({ length: c.calls }, (_, i) =>
        otelTraceRow({
          Timestamp: formatTimestamp(BigInt(END - 240_000 + i * 1_000) * 1_000_000n),
          TraceId: hex(32),
          SpanId: hex(16),
          SpanName: 'chat gpt-4o',
          SpanKind: 'Client',
          ServiceName: c.service,
          Duration: '2000000000',
          SpanAttributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o',
            'gen_ai.request.stream': 'true',
            'llm.ttft_ms': i < c.bad ? '900' : '100',
            'llm.outcome': 'success',
          },
        }),
      ),
    ),
  );
});
afterAll(async () => {
  await storage?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

it('reads a burn exactly at a rate as that rate, so "above the rate" does not hold', async () => {
  const policy = alertPolicy(0.9);
  const rates = [...policy.page, ...policy.ticket].map((row) => row.burnRate);
  expect(rates).toEqual(expect.arrayContaining([5.5, 3, 1.2])); // the cases sit on the policy's own rates (and 1)
  for (const [i, c] of CASES.entries()) {
    const sql = burnRatesSql(config.slos[i]!, 'ttft', [{ label: '5m', seconds: 300 }], { database: 'otel', end: "toDateTime('2026-11-25 12:00:00')" });
    const [row] = await (await storage.client.query({ query: sql, format: 'JSONEachRow' })).json<{ burn_5m: number }>();
    expect(row?.burn_5m, c.service).toBe(c.burn);
    expect(row!.burn_5m > c.burn, c.service).toBe(false);
  }
});

it('reads a budget spent exactly as 0 left, not overspent (the dashboard colours below 0 red)', async () => {
  const target = { database: 'otel', end: "toDateTime('2026-11-25 12:00:00')" };
  const slo = config.slos[CASES.findIndex((c) => c.service === 'one-of-10')]!;
  const query = async <T>(sql: string) => (await storage.client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
  const [left] = await query<{ budget_remaining: number }>(budgetRemainingSql(slo, 'ttft', 28 * 86_400, target));
  expect(left?.budget_remaining).toBe(0);
  const burnDown = await query<{ budget_remaining: number }>(burnDownSql(slo, 'ttft', 28 * 86_400, 3_600, target));
  expect(burnDown.at(-1)?.budget_remaining).toBe(0);
});
