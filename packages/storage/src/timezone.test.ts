// A process whose time zone is not UTC must still store the UTC timestamps it is given, and find
// them again: embedded chDB takes the process's zone as its server's, and partitions are pruned by
// dates in it.
process.env.TZ = 'America/New_York';

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatTimestamp } from './otel-traces.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let storage: Storage;
let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDataDir();
  storage = await openStorage({ dataDir });
});
afterAll(async () => {
  await storage.close();
});

test('Timestamp text is UTC whatever the process time zone', async () => {
  const ns = 1_795_435_200_123_456_789n; // 2026-11-23 12:00:00.123456789 UTC
  const [server] = await (await storage.client.query({ query: 'SELECT serverTimezone() AS tz', format: 'JSONEachRow' })).json<{ tz: string }>();
  // The embedded engine runs on UTC; the process keeps its own zone.
  expect(server!.tz).toBe('UTC');
  expect(new Date(Date.UTC(2026, 0, 1)).getHours()).toBe(19);
  await storage.insertSpans([otelTraceRow({ Timestamp: formatTimestamp(ns), TraceId: 'a'.repeat(32), SpanId: 'b'.repeat(16) })]);
  const result = await storage.client.query({
    query: 'SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, toString(Timestamp) AS text FROM otel.otel_traces',
    format: 'JSONEachRow',
  });
  expect(await result.json()).toEqual([{ ns: ns.toString(), text: '2026-11-23 12:00:00.123456789' }]);
});

test('a range near a UTC day boundary finds its calls in a process of another time zone (partitions pruned by UTC dates)', async () => {
  // 02:40 UTC on Dec 4 is 21:40 on Dec 3 in New York; its partition is the UTC date. A reader
  // whose engine ran on New York time pruned it from a range ending 03:00 UTC.
  await storage.insertSpans([otelTraceRow({ Timestamp: '2026-12-04 02:40:00.000000000', TraceId: 'c'.repeat(32), SpanId: 'd'.repeat(16) })]);
  await storage.close();
  const script = `
import { openStorage } from './src/storage.ts';
const storage = await openStorage({ dataDir: ${JSON.stringify(dataDir)} });
const result = await storage.client.query({ query: "SELECT count() AS n FROM otel.otel_traces WHERE Timestamp >= '2026-12-04 02:00:00' AND Timestamp < '2026-12-04 03:00:00'", format: 'JSONEachRow' });
console.log(JSON.stringify(await result.json()));
await storage.close();
`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url).pathname,
    timeout: 60_000,
    env: { PATH: process.env.PATH, TZ: 'America/New_York' },
  });
  expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual([{ n: 1 }]);
  storage = await openStorage({ dataDir });
});
