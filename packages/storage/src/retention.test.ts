import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatTimestamp, LATEST_SPAN_TIME_NS } from './otel-traces.ts';
import { MAX_RETENTION_DAYS } from './retention.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let dataDir: string;
const opened: Storage[] = [];

async function open(retentionDays?: number): Promise<Storage> {
  const storage = await openStorage({ dataDir, ...(retentionDays === undefined ? {} : { retentionDays }) });
  opened.push(storage);
  return storage;
}

/** The TTL clause of each table, from SHOW CREATE TABLE. */
async function ttls(storage: Storage): Promise<Record<string, string>> {
  const tables = [
    'otel_traces',
    'otel_traces_trace_id_ts',
    'llm_calls',
    'llm_ttft_minute',
    'llm_completion_minute',
    'llm_ttft_counts',
    'llm_completion_counts',
    'llm_call_hours',
    'llm_latency_hours',
    'llm_cost_hours',
    'llm_duplicate_calls',
    'llm_duplicate_hours',
    'llm_cost_minutes',
    'llm_latency_minutes',
  ];
  const out: Record<string, string> = {};
  for (const table of tables) {
    const result = await storage.client.query({ query: `SHOW CREATE TABLE otel.${table}`, format: 'JSONEachRow' });
    const [row] = await result.json<{ statement: string }>();
    out[table] = /\nTTL (.*)\n/.exec(row!.statement)?.[1] ?? '';
  }
  return out;
}

beforeAll(async () => {
  dataDir = await tempDataDir();
});
afterAll(async () => {
  for (const storage of opened) await storage.close();
});

test('retentionDays becomes TTL clauses; the SLO and hourly rollups keep at least 400 days, the minute rollups as the calls', async () => {
  expect(await ttls(await open(30))).toEqual({
    otel_traces: 'toDateTime(Timestamp) + toIntervalDay(30)',
    otel_traces_trace_id_ts: 'toDateTime(Start) + toIntervalDay(30)',
    llm_calls: 'toDateTime(Timestamp) + toIntervalDay(30)',
    llm_ttft_minute: 'Minute + toIntervalDay(400)',
    llm_completion_minute: 'Minute + toIntervalDay(400)',
    llm_ttft_counts: 'Minute + toIntervalDay(400)',
    llm_completion_counts: 'Minute + toIntervalDay(400)',
    llm_call_hours: 'Hour + toIntervalDay(400)',
    llm_latency_hours: 'Hour + toIntervalDay(400)',
    llm_cost_hours: 'Hour + toIntervalDay(400)',
    llm_duplicate_calls: 'toDateTime(Timestamp) + toIntervalDay(400)',
    llm_duplicate_hours: 'Hour + toIntervalDay(400)',
    llm_cost_minutes: 'Minute + toIntervalDay(30)',
    llm_latency_minutes: 'Minute + toIntervalDay(30)',
  });
});

test('a changed retention is applied to existing tables; none given leaves it as is', async () => {
  expect(await ttls(await open(7))).toMatchObject({
    otel_traces: 'toDateTime(Timestamp) + toIntervalDay(7)',
    llm_calls: 'toDateTime(Timestamp) + toIntervalDay(7)',
    llm_ttft_minute: 'Minute + toIntervalDay(400)',
    llm_cost_hours: 'Hour + toIntervalDay(400)',
    llm_latency_minutes: 'Minute + toIntervalDay(7)',
  });
  expect(await ttls(await open(500))).toMatchObject({
    otel_traces_trace_id_ts: 'toDateTime(Start) + toIntervalDay(500)',
    llm_completion_minute: 'Minute + toIntervalDay(500)',
    llm_ttft_counts: 'Minute + toIntervalDay(500)',
    llm_call_hours: 'Hour + toIntervalDay(500)',
    llm_duplicate_calls: 'toDateTime(Timestamp) + toIntervalDay(500)',
    llm_cost_minutes: 'Minute + toIntervalDay(500)',
  });
  expect(await ttls(await open())).toMatchObject({ otel_traces: 'toDateTime(Timestamp) + toIntervalDay(500)' });
});

test('expired rows are dropped from otel_traces and llm_calls', async () => {
  const storage = await open(30);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const dayNs = 86_400n * 1_000_000_000n;
  const span = (id: number, ageDays: bigint) =>
    otelTraceRow({
      Timestamp: formatTimestamp(nowNs - ageDays * dayNs),
      TraceId: id.toString(16).padStart(32, '0'),
      SpanId: id.toString(16).padStart(16, '0'),
      SpanKind: 'Client',
      ServiceName: 'ttl',
      SpanAttributes: { 'gen_ai.operation.name': 'chat' },
    });
  await storage.insertSpans([span(1, 40n), span(2, 1n)]);
  for (const table of ['otel_traces', 'llm_calls']) {
    await storage.client.command({ query: `OPTIMIZE TABLE otel.${table} FINAL` });
    const result = await storage.client.query({
      query: `SELECT SpanId FROM otel.${table} WHERE ServiceName = 'ttl'`,
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ SpanId: '0000000000000002' }]);
  }
});

test('a call at the latest span time, under the longest retention, is kept and counted once in its own minute and hour', async () => {
  await expect(openStorage({ dataDir, retentionDays: MAX_RETENTION_DAYS + 1 })).rejects.toThrow(
    `retention must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${MAX_RETENTION_DAYS + 1}`,
  );
  const storage = await open(MAX_RETENTION_DAYS);
  const call = otelTraceRow({
    Timestamp: formatTimestamp(LATEST_SPAN_TIME_NS),
    TraceId: 'e'.repeat(32),
    SpanId: 'e'.repeat(16),
    SpanKind: 'Client',
    ServiceName: 'latest',
    SpanAttributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'llm.prompt.hash': 'p' },
  });
  // Sent twice, as an exporter re-sends an unacknowledged batch: the duplicate check finds it.
  await storage.insertSpans([call]);
  await storage.insertSpans([call]);
  const rows = async (query: string) => (await storage.client.query({ query, format: 'JSONEachRow' })).json();
  for (const table of ['otel_traces', 'llm_calls', 'llm_completion_counts', 'llm_call_hours']) {
    await storage.client.command({ query: `OPTIMIZE TABLE otel.${table} FINAL` });
  }
  expect(await rows("SELECT toString(Timestamp) AS t FROM otel.llm_calls WHERE ServiceName = 'latest'")).toEqual([{ t: '2100-01-01 00:00:00.000000000' }]);
  expect(await rows("SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = 'latest'")).toEqual([{ n: 1 }]);
  expect(await rows("SELECT toString(Minute) AS m, toString(sum(Calls)) AS calls FROM otel.llm_completion_counts WHERE ServiceName = 'latest' GROUP BY Minute")).toEqual([
    { m: '2100-01-01 00:00:00', calls: '1' },
  ]);
  expect(await rows("SELECT toString(Hour) AS h, toString(sum(Calls)) AS calls FROM otel.llm_call_hours WHERE ServiceName = 'latest' GROUP BY Hour")).toEqual([
    { h: '2100-01-01 00:00:00', calls: '1' },
  ]);
});
