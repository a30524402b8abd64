// A server whose user profile turns the new query analyzer off (`enable_analyzer = 0`): the storage
// client asks for it on every query, so inserts (and their duplicate lookup, which the old analyzer
// refuses: `IN` over a non-constant set) work there too. chDB has no profiles; a session SET, which
// the client's per-query settings override, stands in for one (without the client's setting this
// test fails with Code 36).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatTimestamp } from './otel-traces.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  await storage.client.command({ query: 'SET enable_analyzer = 0' });
});
afterAll(async () => {
  await storage?.close();
});

const BASE_NS = 1_795_435_200_000_000_000n; // 2026-11-23 12:00:00 UTC
const call = (n: number) =>
  otelTraceRow({
    Timestamp: formatTimestamp(BASE_NS + BigInt(n) * 1_000_000_000n),
    TraceId: n.toString(16).padStart(32, '0'),
    SpanId: n.toString(16).padStart(16, '0'),
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    ServiceName: 'old-analyzer',
    Duration: '1500000000',
    SpanAttributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'llm.outcome': 'success' },
  });

test('inserts store each call once, a batch sent again included', async () => {
  const calls = Array.from({ length: 5 }, (_, i) => call(i + 1));
  await storage.insertSpans(calls);
  await storage.insertSpans(calls);
  const [row] = await (
    await storage.client.query({ query: "SELECT count() AS n FROM otel.llm_calls WHERE ServiceName = 'old-analyzer'", format: 'JSONEachRow' })
  ).json<{ n: string }>();
  expect(Number(row!.n)).toBe(5);
});
