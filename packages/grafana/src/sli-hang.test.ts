// A hang pages while it hangs (issue 14, item 2): the SLI and burn-rate SQL of sli-sql.ts over
// chDB, seeded through otel_traces with calls that hang. While they hang only the instrumentation's
// `llm.ttft_deadline` reports are stored, and they already are bad events in the minutes the calls
// started; once the calls end and their spans arrive, each call is counted once.
import { rm } from 'node:fs/promises';
import { formatTimestamp, openStorage, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSloConfig, type ServiceSlo, type SloKind } from './config.ts';
import { burnRatesSql, goodTotalSql, type SliTarget } from './sli-sql.ts';

const SERVICE = 'hang-svc';
const [slo] = parseSloConfig(`
window: 28d
slos:
  - service: ${SERVICE}
    ttft: { thresholdMs: 1500, objective: 0.95 }
    completion: { thresholdMs: 20000, objective: 0.99 }
`).slos as [ServiceSlo];

/** Alert evaluation time: the 5-minute window covers the minutes 11:55 … 11:59. */
const END = Date.UTC(2026, 10, 25, 12, 0, 0);
const MINUTE = 60_000;
const target: SliTarget = { database: 'otel', end: "toDateTime('2026-11-25 12:00:00')" };
/** The instrumentation's default deadline, plus the few ms a timer fires late. */
const WAITED_MS = 60_003.25;
/** The hung calls' first chunk and end, once they come. */
const HUNG_TTFT_MS = 90_000;
const HUNG_DURATION_MS = 100_000;

interface Call {
  n: number;
  start: number;
  hung: boolean;
}
/** An hour of four calls a minute; every call started at 11:57 and 11:58 hangs. */
const calls: Call[] = [];
for (let m = 60; m >= 1; m--) {
  for (let k = 0; k < 4; k++) {
    const start = END - m * MINUTE + k * 10_000;
    calls.push({ n: calls.length, start, hung: m === 3 || m === 2 });
  }
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const ns = (ms: number): string => String(BigInt(Math.round(ms * 1e6)));
const attributes = { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.stream': 'true' };

/** The call span, as the instrumentation exports it when the call ends. */
function callSpan(c: Call): OtelTraceRow {
  const [ttft, duration] = c.hung ? [HUNG_TTFT_MS, HUNG_DURATION_MS] : [400, 3_000];
  return otelTraceRow({
    Timestamp: formatTimestamp(BigInt(c.start) * 1_000_000n),
    TraceId: hex(c.n + 1, 32),
    SpanId: hex(c.n + 1, 16),
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    ServiceName: SERVICE,
    Duration: ns(duration),
    SpanAttributes: {
      ...attributes,
      'gen_ai.operation.name': 'chat',
      'llm.ttft_ms': String(ttft),
      'llm.outcome': 'success',
      ...(c.hung ? { 'llm.ttft_deadline_exceeded': 'true' } : {}),
    },
  });
}

/** The `llm.ttft_deadline` span exported WAITED_MS after a hung call started (docs/conventions.md). */
function deadlineReport(c: Call): OtelTraceRow {
  const call = callSpan(c);
  return otelTraceRow({
    Timestamp: call.Timestamp,
    TraceId: call.TraceId,
    SpanId: hex(0xdead0000 + c.n, 16),
    ParentSpanId: call.SpanId,
    SpanName: 'llm.ttft_deadline',
    SpanKind: 'Internal',
    ServiceName: SERVICE,
    Duration: ns(WAITED_MS),
    SpanAttributes: attributes,
  });
}

let storage: Storage;
let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDataDir('llm-prism-hang-');
  storage = await openStorage({ dataDir });
  await storage.insertSpans(calls.filter((c) => !c.hung).map(callSpan));
});
afterAll(async () => {
  await storage?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

async function one(sql: string): Promise<Record<string, number>> {
  const [row] = await (await storage.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));
}
const goodTotal = (kind: SloKind, seconds: number) => one(goodTotalSql(slo, kind, seconds, target));
const burn5m = async (kind: SloKind) => (await one(burnRatesSql(slo, kind, [{ label: '5m', seconds: 300 }], target)))['burn_5m'];

// The truth: 5 minutes of 4 calls each, the 8 calls of 11:57 and 11:58 hung (TTFT 90 s ≥ 1.5 s;
// completion 100 s ≥ 20 s; and the 60 s wait already exceeds both thresholds).
const TRUTH_5M = { good: 12, total: 20 };
const burnOf = (kind: SloKind) => (TRUTH_5M.total - TRUTH_5M.good) / TRUTH_5M.total / (1 - slo[kind].objective);

describe('calls that hang at 11:57 and 11:58, evaluated at 12:00', () => {
  it('without any span of the hung calls, the 5-minute window sees only the healthy calls', async () => {
    expect(await goodTotal('ttft', 300)).toEqual({ good: 12, total: 12 });
    expect(await burn5m('ttft')).toBe(0);
  });

  it('while they hang: their deadline reports are bad TTFT and completion events in the minutes they started', async () => {
    const reports = calls.filter((c) => c.hung).map(deadlineReport);
    await storage.insertSpans(reports);
    await storage.insertSpans(reports.slice(0, 3)); // an exporter retry: still once
    for (const kind of ['ttft', 'completion'] as const) {
      expect(await goodTotal(kind, 300)).toEqual(TRUTH_5M);
      expect(await burn5m(kind)).toBeCloseTo(burnOf(kind), 9);
    }
    // 8 ÷ 20 bad: a TTFT burn of 8, a completion burn of 40.
    expect(burnOf('ttft')).toBeCloseTo(8, 9);
    expect(burnOf('completion')).toBeCloseTo(40, 9);
  });

  it('once they end: each call counted once, the burn rates unchanged', async () => {
    await storage.insertSpans(calls.filter((c) => c.hung).map(callSpan));
    for (const kind of ['ttft', 'completion'] as const) {
      expect(await goodTotal(kind, 300)).toEqual(TRUTH_5M);
      expect(await burn5m(kind)).toBeCloseTo(burnOf(kind), 9);
      expect(await goodTotal(kind, 3_600)).toEqual({ good: calls.length - 8, total: calls.length });
    }
  });
});
