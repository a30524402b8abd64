// fsync and insert quorum: the MergeTree settings land on every table a span insert writes (and go
// away again), inserts still store everything with them, and the quorum reaches the server with
// each insert. Prints what fsync costs per insert on this machine's disk.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, test } from 'vitest';
import { INSERTED_TABLES } from './durability.ts';
import { openStorage, type Storage } from './storage.ts';
import { otelTraceRow, tempDataDir } from './testing.ts';

let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDataDir();
});

async function fsyncSettings(storage: Storage): Promise<Record<string, string>> {
  const result = await storage.client.query({
    query: `SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)} ORDER BY name`,
    query_params: { db: storage.database, names: INSERTED_TABLES },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ name: string; engine_full: string }>();
  return Object.fromEntries(
    rows.map((r) => [r.name, `${/fsync_after_insert = (\d)/.exec(r.engine_full)?.[1] ?? '-'}${/fsync_part_directory = (\d)/.exec(r.engine_full)?.[1] ?? '-'}`]),
  );
}

let n = 0;
const span = (service: string) =>
  otelTraceRow({
    Timestamp: '2026-11-23 12:00:00.000000000',
    TraceId: (++n).toString(16).padStart(32, '0'),
    SpanId: n.toString(16).padStart(16, '0'),
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    ServiceName: service,
    Duration: 1_000_000,
    SpanAttributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.stream': 'true', 'llm.ttft_ms': '120' },
  });

async function stored(storage: Storage, service: string): Promise<number> {
  const result = await storage.client.query({
    query: `SELECT (SELECT count() FROM ${storage.database}.otel_traces WHERE ServiceName = {s:String}) + (SELECT count() FROM ${storage.database}.llm_calls WHERE ServiceName = {s:String}) AS n`,
    query_params: { s: service },
    format: 'JSONEachRow',
  });
  return Number((await result.json<{ n: string }>())[0]?.n);
}

/** Milliseconds per insert of `rows` spans, over `inserts` inserts. */
async function timeInserts(storage: Storage, service: string, inserts: number, rows: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < inserts; i++) await storage.insertSpans(Array.from({ length: rows }, () => span(service)));
  return (performance.now() - t0) / inserts;
}

test('INSERTED_TABLES is every table an insert of spans writes: otel_traces and every view\'s table', async () => {
  const storage = await openStorage({ dataDir });
  try {
    const result = await storage.client.query({
      query: `SELECT create_table_query FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView'`,
      query_params: { db: storage.database },
      format: 'JSONEachRow',
    });
    const views = await result.json<{ create_table_query: string }>();
    const targets = views.map((v) => /\bTO otel\.(\w+)/.exec(v.create_table_query)?.[1] ?? v.create_table_query);
    expect([...new Set(['otel_traces', ...targets])].sort()).toEqual(INSERTED_TABLES.toSorted());
  } finally {
    await storage.close();
  }
});

describe('fsync', () => {
  test('is set on every inserted table, applied once, left alone when unset, switched off when false', async () => {
    const on = await openStorage({ dataDir, fsync: true });
    const all = (v: string) => Object.fromEntries(INSERTED_TABLES.toSorted().map((t) => [t, v]));
    expect(await fsyncSettings(on)).toEqual(all('11'));
    await on.close();
    const unset = await openStorage({ dataDir });
    expect(await fsyncSettings(unset)).toEqual(all('11'));
    await unset.close();
    const off = await openStorage({ dataDir, fsync: false });
    expect(await fsyncSettings(off)).toEqual(all('00'));
    await off.close();
  });

  test('inserts with fsync store everything; its cost per insert is printed', async () => {
    const figures: Record<string, number> = {};
    for (const fsync of [false, true]) {
      const storage = await openStorage({ dataDir, fsync });
      const service = `fsync-${fsync}`;
      // Warm-up (the views' first compilation), then single-span and 500-span inserts.
      await timeInserts(storage, service, 2, 1);
      figures[`${fsync ? 'on' : 'off'}Ms1Span`] = await timeInserts(storage, service, 15, 1);
      figures[`${fsync ? 'on' : 'off'}Ms500Spans`] = await timeInserts(storage, service, 15, 500);
      expect(await stored(storage, service)).toBe(2 * (2 + 15 + 15 * 500));
      await storage.close();
    }
    console.log(`[durability] fsync ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 10) / 10])))}`);
  }, 120_000);
});

describe('insert quorum', () => {
  test('chDB (not replicated) accepts and stores inserts with a quorum', async () => {
    for (const insertQuorum of [2, 'auto'] as const) {
      const storage = await openStorage({ dataDir, insertQuorum });
      await storage.insertSpans([span(`quorum-${insertQuorum}`)]);
      expect(await stored(storage, `quorum-${insertQuorum}`)).toBe(2);
      await storage.close();
    }
  });

  test('each insert sends insert_quorum to the server, with distributed_foreground_insert on a cluster', async () => {
    // A raw HTTP endpoint in place of a ClickHouse server: no cluster runs here, so the test checks
    // what reaches the wire (ClickHouse takes settings as URL parameters).
    const seen: { query: URLSearchParams; body: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ query: new URL(req.url ?? '/', 'http://x').searchParams, body });
        res.writeHead(200, { 'x-clickhouse-summary': '{}' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const storage = await openStorage({ url, cluster: 'prism', insertQuorum: 2, migrate: false });
      await storage.insertSpans([span('wire')]);
      await storage.close();
      const insert = seen.find((s) => /^INSERT INTO `otel`\.`otel_traces`/.test(s.query.get('query') ?? ''));
      expect(insert?.query.get('insert_quorum')).toBe('2');
      expect(insert?.query.get('distributed_foreground_insert')).toBe('1');
      expect(insert?.body).toContain('"ServiceName":"wire"');
    } finally {
      server.close();
    }
  });

  test('a quorum that is not a positive whole number is refused before connecting', async () => {
    await expect(openStorage({ dataDir, insertQuorum: 0 })).rejects.toThrow(/insert quorum must be a positive whole number of replicas or 'auto', got 0/);
    await expect(openStorage({ dataDir, insertQuorum: 1.5 })).rejects.toThrow(/got 1.5/);
  });
});

