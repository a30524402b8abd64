// Group commit against real chDB: a held first insert lets later requests queue, so they share
// the next insert; each promise settles only once its rows are in otel_traces.
import { openStorage, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GroupCommit } from './group-commit.ts';
import { HttpError } from './http-error.ts';
import { randomSpanId, randomTraceId } from '../test/requests.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
});
afterAll(async () => {
  await storage?.close();
});

function rows(n: number, traceId = randomTraceId()): OtelTraceRow[] {
  return Array.from({ length: n }, () =>
    otelTraceRow({ Timestamp: '2026-11-23 12:00:00.000000000', TraceId: traceId, SpanId: randomSpanId(), ServiceName: 'gc-test' }),
  );
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
  return {
    batches,
    open: () => open(),
    sink: {
      async insertSpans(batch: OtelTraceRow[]) {
        batches.push(batch.length);
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
});
