// A ClickHouse whose time zone is not UTC must still store the UTC timestamps it is given.
process.env.TZ = 'America/New_York';

import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatTimestamp } from './otel-traces.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
});
afterAll(async () => {
  await storage.close();
});

test('Timestamp text is UTC whatever the server time zone', async () => {
  const ns = 1_795_435_200_123_456_789n; // 2026-11-23 12:00:00.123456789 UTC
  const [server] = await (await storage.client.query({ query: 'SELECT serverTimezone() AS tz', format: 'JSONEachRow' })).json<{ tz: string }>();
  expect(server!.tz).toBe('America/New_York');
  await storage.insertSpans([otelTraceRow({ Timestamp: formatTimestamp(ns), TraceId: 'a'.repeat(32), SpanId: 'b'.repeat(16) })]);
  const result = await storage.client.query({
    query: 'SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, toString(Timestamp) AS text FROM otel.otel_traces',
    format: 'JSONEachRow',
  });
  expect(await result.json()).toEqual([{ ns: ns.toString(), text: '2026-11-23 12:00:00.123456789' }]);
});
