// Crash recovery: an insert cut off part-way through its cascade is finished by replaying its
// journaled body with its token, and then every table holds what an uninterrupted insert stores.
// The cut is real: a view that fails inside ClickHouse once llm_calls has its part, the state a
// process killed between the two leaves (test/reliability/heavy/crash.test.ts kills one for real).
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { INSERTED_TABLES } from './durability.ts';
import { DEDUPLICATION_WINDOW, deduplicationSettings } from './insert-deduplication.ts';
import { type InsertJournal, insertJournal } from './insert-journal.ts';
import { encodeJsonEachRow } from './json-each-row.ts';
import { formatTimestamp, type OtelTraceRow } from './otel-traces.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let dataDir: string;
let storage: Storage;
beforeAll(async () => {
  dataDir = await tempDataDir();
  storage = await openStorage({ dataDir });
});
afterAll(async () => {
  await storage.close();
});

const T0 = BigInt(Date.UTC(2026, 10, 23, 9)) * 1_000_000n;
const id = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** Call n, `n` seconds after 09:00: streamed, priced, its prompt repeated by every other call; n % 5 = 0 hangs past its TTFT deadline. */
function spans(n: number): OtelTraceRow[] {
  const call = otelTraceRow({
    Timestamp: formatTimestamp(T0 + BigInt(n) * 1_000_000_000n),
    TraceId: id(n, 32),
    SpanId: id(n, 16),
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    ServiceName: 'journal',
    Duration: String(1_000_000_000 + n * 10_000_000),
    SpanAttributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.request.stream': 'true',
      'gen_ai.usage.input_tokens': String(1_000 + n),
      'gen_ai.usage.output_tokens': '200',
      'llm.ttft_ms': String(200 + n * 7),
      'llm.prompt.hash': `p${n % 2}`,
    },
  });
  const child = otelTraceRow({ ...call, SpanId: id(1_000 + n, 16), ParentSpanId: call.SpanId, SpanName: 'tool', SpanKind: 'Internal', SpanAttributes: {} });
  if (n % 5 !== 0) return [call, child];
  const report = otelTraceRow({
    ...call,
    SpanId: id(2_000 + n, 16),
    ParentSpanId: call.SpanId,
    SpanName: 'llm.ttft_deadline',
    SpanKind: 'Internal',
    Duration: '3000000000',
    SpanAttributes: { 'gen_ai.request.stream': 'true', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai' },
  });
  return [call, child, report];
}
const rows = Array.from({ length: 30 }, (_, n) => spans(n)).flat();

/** Every inserted table's rows (merged as the engine merges them), as sorted JSON lines. */
async function snapshot(): Promise<Record<string, string[]>> {
  const tables: Record<string, string[]> = {};
  for (const table of INSERTED_TABLES) {
    await storage.client.command({ query: `OPTIMIZE TABLE otel.${table} FINAL` });
    const result = await storage.client.query({ query: `SELECT * FROM otel.${table}`, format: 'JSONEachRow' });
    tables[table] = (await result.json()).map((row) => JSON.stringify(row)).sort();
  }
  return tables;
}

async function truncateAll(): Promise<void> {
  for (const table of INSERTED_TABLES) await storage.client.command({ query: `TRUNCATE TABLE otel.${table}` });
}

/**
 * Inserts `body` under a journaled token while a view on llm_calls fails inside ClickHouse: the
 * insert is cut part-way. Which tables have their part by then varies from run to run (ClickHouse
 * commits a table's part and runs its views concurrently), as it does when a process is killed.
 */
async function cutInsert(journal: InsertJournal, body: Buffer): Promise<Record<string, string[]>> {
  await storage.client.command({ query: 'CREATE TABLE otel.cut (x UInt8) ENGINE = MergeTree ORDER BY x' });
  await storage.client.command({ query: "CREATE MATERIALIZED VIEW otel.cut_mv TO otel.cut AS SELECT throwIf(count() > 0, 'cut') AS x FROM otel.llm_calls" });
  const insert = storage.client.exec({
    query: 'INSERT INTO otel.otel_traces FORMAT JSONEachRow',
    values: Readable.from([body]),
    clickhouse_settings: deduplicationSettings(await journal.begin(body)),
  });
  await expect(insert).rejects.toThrow(/cut/);
  await storage.client.command({ query: 'DROP VIEW otel.cut_mv' });
  return snapshot();
}

test('an insert cut off part-way is finished at the next open: every table as if uninterrupted, each call once', async () => {
  const journal = insertJournal(join(dataDir, 'insert-journal'), false);
  const cut = await cutInsert(journal, await encodeJsonEachRow(rows));
  const missing = INSERTED_TABLES.filter((t) => cut[t]!.length === 0);
  console.log(`cut: ${INSERTED_TABLES.length - missing.length} tables stored the insert, ${missing.join(', ')} did not`);
  expect(cut.otel_traces).toHaveLength(rows.length);
  expect(missing).not.toEqual([]);
  await storage.close();

  storage = await openStorage({ dataDir });
  expect(await journal.pending()).toEqual([]);
  const replayed = await snapshot();
  // What the exporters re-send afterwards (the insert was never acknowledged) changes no count.
  await storage.insertSpans(rows);
  const resent = await snapshot();
  // Only the spans no count reads are stored twice: the child spans, in otel_traces and its trace-id lookup.
  expect(resent.otel_traces).toHaveLength(rows.length + 30);
  const counted = (tables: Record<string, string[]>) => ({ ...tables, otel_traces: [], otel_traces_trace_id_ts: [] });
  expect(counted(resent)).toEqual(counted(replayed));

  await truncateAll();
  await storage.insertSpans(rows);
  const uninterrupted = await snapshot();
  for (const table of INSERTED_TABLES) expect(uninterrupted[table], table).not.toEqual([]);
  expect(replayed).toEqual(uninterrupted);
});

test('an insert that settles leaves nothing to replay; a body cut off while being written is never replayed', async () => {
  const journalDir = join(dataDir, 'insert-journal');
  await truncateAll();
  await storage.insertSpans(rows.slice(0, 4));
  expect(await readdir(journalDir)).toEqual([]);
  await writeFile(join(journalDir, '000000000000001-x.jsonl.partial'), '{"Timestamp":');
  expect(await insertJournal(journalDir, false).pending()).toEqual([]);
  expect(await readdir(journalDir)).toEqual([]);
});

test('a journaled insert that cannot be replayed fails the open with the file to look at', async () => {
  const journalDir = join(await tempDataDir(), 'journal');
  await mkdir(journalDir);
  await writeFile(join(journalDir, '000000000000001-bad.jsonl'), '{"Timestamp": "not a time"}\n');
  await expect(openStorage({ dataDir, journalDir })).rejects.toThrow(/could not finish the insert a crash interrupted \(.*000000000000001-bad\.jsonl\)/);
});

test('every table an insert writes is in INSERTED_TABLES and keeps a deduplication log', async () => {
  const result = await storage.client.query({
    query: `SELECT name, engine, engine_full, create_table_query FROM system.tables WHERE database = 'otel'`,
    format: 'JSONEachRow',
  });
  const tables = await result.json<{ name: string; engine: string; engine_full: string; create_table_query: string }>();
  // The views' targets, and the table the insert names.
  const written = new Set([
    'otel_traces',
    ...tables.filter((t) => t.engine === 'MaterializedView').map((t) => /\bTO otel\.(\w+)/.exec(t.create_table_query)?.[1] ?? `? ${t.name}`),
  ]);
  expect([...written].sort()).toEqual(INSERTED_TABLES.toSorted());
  const withoutLog = tables.filter((t) => written.has(t.name) && !t.engine_full.includes(`non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`));
  expect(withoutLog.map((t) => t.name)).toEqual([]);
});
