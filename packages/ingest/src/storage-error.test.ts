// Every error classifyInsertError knows, triggered for real against chDB: data errors are the ones
// raised while parsing an insert (which stores nothing); overload, a missing table, an error inside
// a view and a closed connection are unavailability.
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { openStorage, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { classifyInsertError, type InsertFailure } from './storage-error.ts';
import { randomSpanId, randomTraceId } from '../test/requests.ts';

let storage: Storage;
let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDataDir();
  storage = await openStorage({ dataDir });
});
afterAll(async () => {
  await storage?.close();
});

const row = (fields: Partial<OtelTraceRow> = {}): OtelTraceRow =>
  otelTraceRow({ Timestamp: '2026-11-23 12:00:00.000000000', TraceId: randomTraceId(), SpanId: randomSpanId(), ServiceName: 'classify', ...fields });

async function failure(insert: () => Promise<unknown>): Promise<InsertFailure> {
  const error = await insert().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the insert should have failed').toBeDefined();
  return classifyInsertError(error);
}

const spans = (rows: OtelTraceRow[]) => () => storage.insertSpans(rows);

test.each([
  ['a lone high surrogate', [row(), row({ SpanName: 'x\ud83d' })], 'Cannot parse escape sequence: missing second part of surrogate pair (column SpanName) (CANNOT_PARSE_ESCAPE_SEQUENCE)'],
  ['a start after 2262', [row({ Timestamp: '2300-01-01 00:00:00.000000000' })], 'Decimal math overflow (column Timestamp) (DECIMAL_OVERFLOW)'],
  ['an event after 2262', [row({ 'Events.Timestamp': ['2263-01-01 00:00:00.000000000'], 'Events.Name': ['e'], 'Events.Attributes': [{}] })], 'Decimal math overflow (column Events.Timestamp) (DECIMAL_OVERFLOW)'],
  ['a five-digit year', [row({ Timestamp: '+10000-01-01 00:00:00.000000000' })], /^Cannot read DateTime: .* \(column Timestamp\) \(CANNOT_PARSE_DATETIME\)$/],
  ['a negative duration', [row({ Duration: -1 })], "Unsigned type must not contain '-' symbol (column Duration) (CANNOT_PARSE_NUMBER)"],
] as const)('data: %s', async (_name, rows, message) => {
  const result = await failure(spans([...rows]));
  expect(result).toMatchObject({ kind: 'data', partitions: false });
  expect(result.message).toMatch(typeof message === 'string' ? new RegExp(`^${message.replace(/[()\\[\]|.*+?^$]/g, '\\$&')}$`) : message);
});

test('data: more than 100 days in one insert (only the spread is wrong)', async () => {
  const rows = Array.from({ length: 101 }, (_, i) => row({ Timestamp: `${new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10)} 00:00:00.000000000` }));
  expect(await failure(spans(rows))).toEqual({ kind: 'data', partitions: true, message: 'Too many partitions for single INSERT block (more than 100) (TOO_MANY_PARTS)' });
});

test('unavailable: too many parts (the same error code, but merges are behind: overload)', async () => {
  await storage.client.command({
    query: 'CREATE TABLE default.overloaded (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS parts_to_throw_insert = 2, parts_to_delay_insert = 1, max_delay_to_insert = 0',
  });
  await storage.client.command({ query: 'SYSTEM STOP MERGES default.overloaded' });
  const insert = () => storage.client.insert({ table: 'default.overloaded', values: [{ x: 1 }], format: 'JSONEachRow' });
  await insert();
  await insert();
  const result = await failure(insert);
  expect(result.kind).toBe('unavailable');
  expect(result.message).toMatch(/^Too many parts \(2 with average size .*\(TOO_MANY_PARTS\)$/);
});

test('unavailable: a missing table', async () => {
  const result = await failure(() => storage.client.insert({ table: 'otel.missing', values: [row()], format: 'JSONEachRow' }));
  expect(result).toEqual({ kind: 'unavailable', message: 'Table otel.missing does not exist (UNKNOWN_TABLE)', reason: 'UNKNOWN_TABLE' });
});

test('unavailable: an error inside a view (the target table has the rows already)', async () => {
  await storage.client.command({ query: 'CREATE TABLE default.source (v Float64) ENGINE = MergeTree ORDER BY tuple()' });
  await storage.client.command({ query: 'CREATE TABLE default.target (n UInt64) ENGINE = MergeTree ORDER BY tuple()' });
  await storage.client.command({ query: 'CREATE MATERIALIZED VIEW default.view TO default.target AS SELECT toUInt64(v) AS n FROM default.source' });
  const result = await failure(() => storage.client.insert({ table: 'default.source', values: [{ v: 'inf' }], format: 'JSONEachRow' }));
  expect(result.kind).toBe('unavailable');
  expect(result.message).toMatch(/\(CANNOT_CONVERT_TYPE\)$/);
  const stored = await storage.client.query({ query: 'SELECT count() AS n FROM default.source', format: 'JSONEachRow' });
  expect(Number((await stored.json<{ n: string }>())[0]!.n)).toBe(1);
});

test('unavailable: a closed connection', async () => {
  // A second Storage on the same data directory (chDB: one per process), closed.
  const closed = await openStorage({ dataDir, migrate: false });
  await closed.close();
  expect(await failure(() => closed.insertSpans([row()]))).toEqual({ kind: 'unavailable', message: 'ChdbConnection is closed', reason: 'unreachable' });
});

test('unavailable: a server that refuses connections; a client is told the code, not the address', async () => {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  await new Promise((resolve) => listener.close(resolve)); // nothing listens there now
  // What @clickhouse/client passes on from node:http.
  const post = () => new Promise((resolve, reject) => request(`http://127.0.0.1:${port}/`, { method: 'POST' }, resolve).on('error', reject).end());
  expect(await failure(post)).toMatchObject({ kind: 'unavailable', reason: 'ECONNREFUSED', message: expect.stringContaining(`127.0.0.1:${port}`) });
  // What fetch throws: the code is on its cause.
  expect(await failure(() => fetch(`http://127.0.0.1:${port}/`))).toMatchObject({ kind: 'unavailable', reason: 'ECONNREFUSED' });
});
