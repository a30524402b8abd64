// Group commit against real chDB: a held first insert lets later requests queue, so they share
// the next insert; each promise settles only once its rows are in otel_traces. Values ClickHouse
// refuses (a lone surrogate, a time after 2262) are isolated to their request and span; an insert
// of more than 100 days is split; only a missing table makes everyone wait.
import { openStorage, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GroupCommit, MAX_PARTITIONS_PER_INSERT } from './group-commit.ts';
import { HttpError } from './http-error.ts';
import { randomSpanId, randomTraceId } from '../test/requests.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
});
afterAll(async () => {
  await storage?.close();
});

function rows(n: number, traceId = randomTraceId(), fields: Partial<OtelTraceRow> = {}): OtelTraceRow[] {
  return Array.from({ length: n }, () =>
    otelTraceRow({ Timestamp: '2026-11-23 12:00:00.000000000', TraceId: traceId, SpanId: randomSpanId(), ServiceName: 'gc-test', ...fields }),
  );
}

/** Rows one day apart from 2026-01-01 on. */
function spreadOverDays(days: number, traceId: string): OtelTraceRow[] {
  return rows(days, traceId).map((row, i) => ({
    ...row,
    Timestamp: `${new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10)} 08:00:00.000000000`,
  }));
}

/** Distinct SpanIds of a trace, and the rows (more than one means a span stored twice). */
async function stored(traceId: string): Promise<{ spans: number; rows: number }> {
  const result = await storage.client.query({
    query: `SELECT uniqExact(SpanId) AS spans, count() AS rows FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`,
    query_params: { t: traceId },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ spans: string; rows: string }>();
  return { spans: Number(row?.spans), rows: Number(row?.rows) };
}

async function count(traceId: string): Promise<number> {
  const result = await storage.client.query({
    query: `SELECT count() AS n FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`,
    query_params: { t: traceId },
    format: 'JSONEachRow',
  });
  return Number((await result.json<{ n: string }>())[0]?.n);
}

/** The real storage behind a gate that holds inserts until opened, recording each batch size. */
function gatedSink() {
  const batches: number[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const days: number[] = [];
  return {
    batches,
    /** Distinct days of each insert. */
    days,
    open: () => open(),
    sink: {
      async insertSpans(batch: OtelTraceRow[]) {
        batches.push(batch.length);
        days.push(new Set(batch.map((r) => r.Timestamp.slice(0, 10))).size);
        await gate;
        await storage.insertSpans(batch);
      },
    },
  };
}

describe('GroupCommit', () => {
  test('coalesces concurrent requests into one insert per turn, up to the row cap', async () => {
    const { sink, batches, open } = gatedSink();
    const commit = new GroupCommit({ sink, maxBatchRows: 100, maxQueuedRows: 1000 });
    const traceId = randomTraceId();
    const first = commit.submit(rows(5, traceId));
    // 30 requests of 10 rows arrive while the first insert is held: they queue.
    const rest = Array.from({ length: 30 }, () => commit.submit(rows(10, traceId)));
    expect(commit.queuedRows).toBe(300);

    const settled: number[] = [];
    const watched = [first, ...rest].map((p, i) => p.then(() => settled.push(i)));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual([]); // nothing acknowledged before it is stored
    expect(await count(traceId)).toBe(0);

    open();
    await Promise.all(watched);
    expect(batches).toEqual([5, 100, 100, 100]);
    expect(await count(traceId)).toBe(305);
    expect(commit.queuedRows).toBe(0);
  });

  test('lingers after a large insert: below lingerRows the next waits up to lingerMs for more, at lingerRows or after a small one it starts at once; close() does not wait', async () => {
    const batches: number[] = [];
    const startedAt: number[] = [];
    const sink = {
      async insertSpans(batch: OtelTraceRow[]) {
        batches.push(batch.length);
        startedAt.push(performance.now());
        await storage.insertSpans(batch);
      },
    };
    const commit = new GroupCommit({ sink, lingerMs: 150, lingerRows: 40 });
    const traceId = randomTraceId();
    const waited = (i: number, since: number) => (startedAt[i] as number) - since;
    let at = performance.now();
    await commit.submit(rows(40, traceId)); // nothing before it was large: at once
    expect(waited(0, at)).toBeLessThan(100);

    at = performance.now();
    const alone = commit.submit(rows(10, traceId));
    await new Promise((r) => setTimeout(r, 30));
    expect(batches).toEqual([40]); // after a 40-row insert, 10 < 40 rows queued: waiting for more
    const joined = commit.submit(rows(10, traceId));
    await Promise.all([alone, joined]);
    // Nobody else came: the two went together once lingerMs had passed, and not before.
    expect(batches).toEqual([40, 20]);
    expect(waited(1, at)).toBeGreaterThanOrEqual(145);

    at = performance.now();
    await commit.submit(rows(5, traceId)); // after a 20-row insert: at once
    expect(waited(2, at)).toBeLessThan(100);

    await commit.submit(rows(45, traceId));
    at = performance.now();
    const filled = [commit.submit(rows(25, traceId)), commit.submit(rows(15, traceId))];
    await Promise.all(filled); // 40 rows queued: at once
    expect(waited(4, at)).toBeLessThan(100);

    const lingering = commit.submit(rows(5, traceId));
    await new Promise((r) => setTimeout(r, 10));
    at = performance.now();
    await commit.close();
    await lingering;
    expect(batches).toEqual([40, 20, 5, 45, 40, 5]);
    expect(waited(5, at)).toBeLessThan(100); // flushed at close, not after the linger
    expect(await count(traceId)).toBe(155);
  });

  test('a full queue answers 429 with Retry-After and stores nothing of that request', async () => {
    const { sink, open } = gatedSink();
    const commit = new GroupCommit({ sink, maxQueuedRows: 20, retryAfterSeconds: 2 });
    const kept = randomTraceId();
    const refused = randomTraceId();
    const inFlight = commit.submit(rows(5, kept));
    const queued = commit.submit(rows(15, kept));
    const error = await commit.submit(rows(6, refused)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(429);
    expect((error as HttpError).retryAfterSeconds).toBe(2);
    expect((error as HttpError).message).toMatch(/ingest queue is full \(15 rows waiting, limit 20\)/);
    open();
    await Promise.all([inFlight, queued]);
    expect(await count(kept)).toBe(20);
    expect(await count(refused)).toBe(0);
  });

  test('close() waits for queued rows to be stored and then refuses work', async () => {
    const { sink, open } = gatedSink();
    const commit = new GroupCommit({ sink });
    const traceId = randomTraceId();
    const pending = [commit.submit(rows(3, traceId)), commit.submit(rows(4, traceId))];
    const closed = commit.close();
    setTimeout(open, 30);
    await closed;
    await Promise.all(pending);
    expect(await count(traceId)).toBe(7);
    const error = await commit.submit(rows(1)).catch((e: unknown) => e);
    expect((error as HttpError).status).toBe(503);
  });

  test('a lone surrogate and a time after 2262 are refused to their sender only, the rest of the batch is stored once', async () => {
    const { sink, batches, open } = gatedSink();
    const commit = new GroupCommit({ sink, retryAfterSeconds: 5 });
    const healthy = randomTraceId();
    const first = commit.submit(rows(3, healthy));
    const others = Array.from({ length: 8 }, () => commit.submit(rows(20, healthy)));
    const surrogateTrace = randomTraceId();
    const surrogate = [...rows(10, surrogateTrace), ...rows(1, surrogateTrace, { SpanName: 'half an emoji \ud83d' }), ...rows(5, surrogateTrace)];
    const poisoned = commit.submit(surrogate);
    const futureTrace = randomTraceId();
    const future = [...rows(6, futureTrace), ...rows(1, futureTrace, { Timestamp: '2300-01-01 00:00:00.000000000', SpanName: 'far future' })];
    const later = commit.submit(future);
    const more = Array.from({ length: 8 }, () => commit.submit(rows(20, healthy)));
    open();

    const results = await Promise.all([first, ...others, ...more]);
    expect(results.every((r) => r.refused.length === 0)).toBe(true);
    const surrogateResult = await poisoned;
    expect(surrogateResult.refused.map((r) => r.row)).toEqual([surrogate[10]]);
    expect(surrogateResult.refused[0]!.reason).toBe(
      'Cannot parse escape sequence: missing second part of surrogate pair (column SpanName) (CANNOT_PARSE_ESCAPE_SEQUENCE)',
    );
    const futureResult = await later;
    expect(futureResult.refused.map((r) => r.row)).toEqual([future[6]]);
    expect(futureResult.refused[0]!.reason).toBe('Decimal math overflow (column Timestamp) (DECIMAL_OVERFLOW)');

    expect(await stored(healthy)).toEqual({ spans: 323, rows: 323 });
    expect(await stored(surrogateTrace)).toEqual({ spans: 15, rows: 15 });
    expect(await stored(futureTrace)).toEqual({ spans: 6, rows: 6 });
    // Bisection, not one insert per span: a few more inserts than the two batches.
    expect(batches.length).toBeLessThan(25);
    // A data error is not an outage: the next request is taken at once.
    expect((await commit.submit(rows(1, healthy))).refused).toEqual([]);
  });

  test('a request over more than 100 days is stored whole in inserts of at most 100 days, and never shares an insert over the limit', async () => {
    const { sink, days, open } = gatedSink();
    const commit = new GroupCommit({ sink });
    const held = commit.submit(rows(1));
    const spreadTrace = randomTraceId();
    const spread = commit.submit(spreadOverDays(250, spreadTrace));
    const near = randomTraceId();
    // Two requests of 60 days each: fine alone, over the limit together.
    const a = commit.submit(spreadOverDays(60, near));
    const b = commit.submit(spreadOverDays(60, near).map((r) => ({ ...r, Timestamp: r.Timestamp.replace('2026', '2024') })));
    open();
    for (const result of await Promise.all([held, spread, a, b])) expect(result.refused).toEqual([]);
    expect(await stored(spreadTrace)).toEqual({ spans: 250, rows: 250 });
    expect(await stored(near)).toEqual({ spans: 120, rows: 120 });
    // No insert over the limit: the 250-day request went in three groups of days, the 60-day ones apart.
    expect(days.filter((d) => d > MAX_PARTITIONS_PER_INSERT)).toEqual([]);
    expect(days).toEqual([1, 100, 100, 50, 60, 60]);
  });

  test('a request whose every span is bad is refused whole within its insert budget', async () => {
    const { sink, batches, open } = gatedSink();
    const commit = new GroupCommit({ sink, maxIsolationInserts: 8 });
    const trace = randomTraceId();
    const bad = rows(40, trace, { StatusMessage: 'cut \ud800' });
    const pending = commit.submit(bad);
    open();
    const { refused } = await pending;
    expect(refused.map((r) => r.row).toSorted((x, y) => x.SpanId.localeCompare(y.SpanId))).toEqual(
      bad.toSorted((x, y) => x.SpanId.localeCompare(y.SpanId)),
    );
    expect(batches.length).toBeLessThanOrEqual(1 + 8);
    expect(await count(trace)).toBe(0);
  });

  test('storage that is unavailable (a missing table) fails the whole batch with 503 and refuses work for Retry-After', async () => {
    const commit = new GroupCommit({
      sink: {
        insertSpans: (batch) =>
          storage.client.insert({ table: `${storage.database}.no_such_table`, values: batch, format: 'JSONEachRow' }).then(() => {}),
      },
      retryAfterSeconds: 30,
    });
    const errors = await Promise.all([commit.submit(rows(2)), commit.submit(rows(3))].map((p) => p.catch((e: unknown) => e)));
    for (const error of errors) {
      expect((error as HttpError).status).toBe(503);
      // ClickHouse's text (the table, the query, other clients' values) is the log's, not the client's.
      expect((error as HttpError).message).toBe('storage unavailable (UNKNOWN_TABLE): try again later');
    }
    const refused = await commit.submit(rows(1)).catch((e: unknown) => e);
    expect((refused as HttpError).status).toBe(503);
    expect((refused as HttpError).retryAfterSeconds).toBe(30);
  });

  test('an outage is logged once when it starts, with ClickHouse\'s reason, and once when storage is back (it was only in the 503s)', async () => {
    let table = 'no_such_table';
    const lines: string[] = [];
    const commit = new GroupCommit({
      sink: { insertSpans: (batch) => storage.client.insert({ table: `${storage.database}.${table}`, values: batch, format: 'JSONEachRow' }).then(() => {}) },
      retryAfterSeconds: 0,
      log: (line) => lines.push(line),
    });
    for (let i = 0; i < 3; i++) await commit.submit(rows(1)).catch(() => {});
    expect(lines).toEqual([expect.stringMatching(/^llm-prism ingest: storage unavailable \(Table .*no_such_table does not exist \(UNKNOWN_TABLE\)\); answering 503/)]);
    table = 'otel_traces';
    await commit.submit(rows(1));
    await commit.submit(rows(1));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('llm-prism ingest: storage available again');
  });
});
