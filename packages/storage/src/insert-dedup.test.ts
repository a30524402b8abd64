import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_MINUTES_WITHOUT_IDS, withoutStoredCalls } from './insert-dedup.ts';
import { formatTimestamp, type OtelTraceRow } from './otel-traces.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
});
afterAll(async () => {
  await storage.close();
});

const T0 = BigInt(Date.UTC(2026, 10, 23, 9)) * 1_000_000n;
const id = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** Span n of service `service`, `n` seconds after 09:00; an LLM call span unless `kind` says otherwise. */
function span(service: string, n: number, kind: 'call' | 'child' | 'report' = 'call'): OtelTraceRow {
  return otelTraceRow({
    Timestamp: formatTimestamp(T0 + BigInt(n) * 1_000_000_000n),
    TraceId: id(n, 32),
    SpanId: id(kind === 'call' ? n : kind === 'child' ? 1_000_000 + n : 2_000_000 + n, 16),
    ParentSpanId: kind === 'call' ? '' : id(n, 16),
    SpanName: kind === 'report' ? 'llm.ttft_deadline' : kind === 'child' ? 'tool' : 'chat',
    SpanKind: kind === 'call' ? 'Client' : 'Internal',
    ServiceName: service,
    SpanAttributes: kind === 'call' ? { 'gen_ai.operation.name': 'chat' } : { 'gen_ai.request.stream': 'true' },
  });
}
const ids = (rows: readonly OtelTraceRow[]) => rows.map((r) => r.SpanId);
async function count(query: string, service: string): Promise<number> {
  const result = await storage.client.query({ query, query_params: { s: service }, format: 'JSONEachRow' });
  return Number((await result.json<{ n: string }>())[0]!.n);
}

describe('withoutStoredCalls', () => {
  test('a re-sent batch loses its stored call spans and deadline reports, keeps its other spans', async () => {
    const batch = [span('resend', 1), span('resend', 1, 'child'), span('resend', 2), span('resend', 2, 'report')];
    await storage.insertSpans(batch);
    const fresh = span('resend', 3);
    expect(ids(await withoutStoredCalls(storage.client, { database: 'otel' }, [...batch, fresh]))).toEqual(ids([batch[1]!, fresh]));
    await storage.insertSpans([...batch, fresh]);
    expect(await count('SELECT count() AS n FROM otel.llm_calls WHERE ServiceName = {s:String}', 'resend')).toBe(3);
    expect(await count("SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = {s:String} AND SpanName = 'tool'", 'resend')).toBe(2);
    expect(await count('SELECT sum(Calls) AS n FROM otel.llm_completion_counts WHERE ServiceName = {s:String}', 'resend')).toBe(4);
  });

  test('a span twice in one batch is kept once; a batch with nothing counted is returned as it is', async () => {
    const call = span('twice', 1);
    expect(ids(await withoutStoredCalls(storage.client, { database: 'otel' }, [call, call, span('twice', 2)]))).toEqual([call.SpanId, id(2, 16)]);
    const children = [span('twice', 1, 'child')];
    expect(await withoutStoredCalls(storage.client, { database: 'otel' }, children)).toBe(children);
  });

  test(`a batch over more than ${MAX_MINUTES_WITHOUT_IDS} minutes (a replay) is checked by trace id as well`, async () => {
    const replay = Array.from({ length: 40 }, (_, i) => span('replay', 5_000 + i * 60));
    await storage.insertSpans(replay.slice(0, 30));
    expect(ids(await withoutStoredCalls(storage.client, { database: 'otel' }, replay))).toEqual(ids(replay.slice(30)));
    await storage.insertSpans(replay);
    expect(await count('SELECT count() AS n FROM otel.llm_calls WHERE ServiceName = {s:String}', 'replay')).toBe(40);
  });

  test('a malformed time is not looked up: the insert fails on it as before', async () => {
    const bad = { ...span('malformed', 1), Timestamp: 'not a time' };
    expect(await withoutStoredCalls(storage.client, { database: 'otel' }, [bad])).toEqual([bad]);
    await expect(storage.insertSpans([span('malformed', 2), bad])).rejects.toThrow();
    expect(await count('SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = {s:String}', 'malformed')).toBe(0);
  });
});
