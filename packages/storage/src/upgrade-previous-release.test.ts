// Upgrades a data directory written by the previous release (commit 6641a80: migrations 1-3, chDB
// 3.4.0; see test/previous-release/README.md) with the current code: nothing stored is lost, the
// rollups are recounted to the old release's answer, and new inserts count once beside the old data.
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { migrations } from './migrations.ts';
import type { OtelTraceRow } from './otel-traces.ts';
import { latencyBucketMs } from './slo-buckets.ts';
import { openStorage, type Storage } from './storage.ts';
import { tempDataDir } from './testing.ts';
import { ABORTED, BATCHES, CALLS, FAILED, NON_STREAMED, SLOW, SPANS, STREAMED } from '../test/previous-release/spans.ts';

const FIXTURE = fileURLToPath(new URL('../test/previous-release/release-6641a80.tar.gz', import.meta.url));

let parent: string;
let storage: Storage;
/** What the previous release's rollups answered, read before migrating. */
let oldTtft: TtftRow[];
let oldCompletion: CompletionRow[];
let applied: number[];

interface TtftRow {
  Minute: string;
  Model: string;
  TtftBucketMs: number;
  Calls: number;
}
interface CompletionRow {
  Minute: string;
  Model: string;
  Good: number;
  DurationBucketMs: number;
  Calls: number;
}

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await storage.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
}

async function count(query: string, params: Record<string, unknown> = {}): Promise<number> {
  const [row] = await rows<{ n: string }>(`SELECT toUInt64(c) AS n FROM (${query}) AS t(c)`, params);
  return Number(row?.n);
}

const ttftCounts = (where: string): Promise<TtftRow[]> =>
  rows(`SELECT Minute, Model, TtftBucketMs, toUInt32(sum(Calls)) AS Calls FROM otel.llm_ttft_counts WHERE ${where} GROUP BY ALL HAVING Calls > 0 ORDER BY ALL`);
const completionCounts = (where: string): Promise<CompletionRow[]> =>
  rows(
    `SELECT Minute, Model, Good, DurationBucketMs, toUInt32(sum(Calls)) AS Calls FROM otel.llm_completion_counts WHERE ${where} GROUP BY ALL HAVING Calls > 0 ORDER BY ALL`,
  );

beforeAll(async () => {
  parent = await tempDataDir('llm-prism-upgrade-');
  execFileSync('tar', ['-xzf', FIXTURE, '-C', parent]);
  storage = await openStorage({ dataDir: join(parent, 'data'), migrate: false });
  oldTtft = await rows('SELECT Minute, Model, TtftBucketMs, toUInt32(uniqExactMerge(Calls)) AS Calls FROM otel.llm_ttft_minute GROUP BY ALL ORDER BY ALL');
  oldCompletion = await rows(
    'SELECT Minute, Model, Good, DurationBucketMs, toUInt32(uniqExactMerge(Calls)) AS Calls FROM otel.llm_completion_minute GROUP BY ALL ORDER BY ALL',
  );
  applied = await storage.migrate();
});

afterAll(async () => {
  await storage?.close();
  if (parent !== undefined) await rm(parent, { recursive: true, force: true });
});

describe('a data directory of the previous release, upgraded', () => {
  test('the fixture is what the previous release wrote: migrations 1-3 and its rollups', () => {
    // Guards the fixture itself: four calls counted (the aborted one left out by that release), the re-sent one once.
    expect(oldCompletion.reduce((n, r) => n + r.Calls, 0)).toBe(4);
    expect(oldTtft.reduce((n, r) => n + r.Calls, 0)).toBe(3);
  });

  test('every later migration is applied once, and recorded', async () => {
    expect(applied).toEqual(migrations.filter((m) => m.version > 3).map((m) => m.version));
    const ledger = await rows<{ Version: number }>('SELECT DISTINCT Version FROM otel.schema_migrations ORDER BY Version');
    expect(ledger.map((r) => r.Version)).toEqual(migrations.map((m) => m.version));
    expect(await storage.migrate()).toEqual([]);
  });

  test('otel_traces keeps every stored span, as stored, and the re-sent batch twice', async () => {
    const stored = await rows<OtelTraceRow>('SELECT * FROM otel.otel_traces ORDER BY SpanId, Timestamp');
    expect(stored).toHaveLength(BATCHES.flat().length);
    for (const span of SPANS) {
      const copies = stored.filter((r) => r.SpanId === span.SpanId);
      expect(copies.length).toBe(BATCHES.flat().filter((s) => s.SpanId === span.SpanId).length);
      for (const row of copies) expect({ ...row, Duration: String(row.Duration) }).toEqual(span);
    }
  });

  test('llm_calls keeps each call with its values; columns added later are NULL or empty for old rows', async () => {
    const calls = await rows<Record<string, unknown>>(
      `SELECT SpanId, Provider, Route, RequestModel, Streamed, StatusCode, ErrorType, FinishReason, Outcome, DurationMs, QueueMs,
              TtftMs, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens, CacheState, CacheMissReason, Chunks, Attempts,
              RateLimitedAttempts, ClientSetupMs, PromptHash, TtftDeadlineExceeded
       FROM otel.llm_calls FINAL ORDER BY SpanId`,
    );
    const later = { ClientSetupMs: null, PromptHash: '', TtftDeadlineExceeded: 0 };
    const base = { Route: 'summary', StatusCode: 'Unset', ErrorType: '', QueueMs: null, CacheReadTokens: 0, CacheWriteTokens: 0, CacheState: '', CacheMissReason: '' };
    const none = { FinishReason: '', InputTokens: 0, OutputTokens: 0, Chunks: 0, Attempts: 1, RateLimitedAttempts: 0 };
    expect(calls).toEqual([
      {
        ...base,
        ...later,
        SpanId: STREAMED.SpanId,
        Provider: 'openai',
        RequestModel: 'gpt-4o',
        Streamed: 1,
        FinishReason: 'stop',
        Outcome: 'success',
        DurationMs: 2350,
        QueueMs: 180.5,
        TtftMs: 412.5,
        InputTokens: 1200,
        OutputTokens: 310,
        CacheReadTokens: 1024,
        CacheState: 'hit',
        Chunks: 96,
        Attempts: 2,
        RateLimitedAttempts: 1,
      },
      {
        ...base,
        ...later,
        SpanId: NON_STREAMED.SpanId,
        Provider: 'anthropic',
        RequestModel: 'claude-sonnet-4',
        Streamed: 0,
        FinishReason: 'end_turn',
        Outcome: 'success',
        DurationMs: 900.25,
        TtftMs: null,
        InputTokens: 5000,
        OutputTokens: 120,
        CacheWriteTokens: 4096,
        CacheState: 'miss',
        CacheMissReason: 'prefix_changed',
        Chunks: 0,
        Attempts: 1,
        RateLimitedAttempts: 0,
      },
      { ...base, ...later, ...none, SpanId: ABORTED.SpanId, Provider: 'openai', RequestModel: 'gpt-4o', Streamed: 1, Outcome: 'aborted', DurationMs: 700, TtftMs: 350, Chunks: 4 },
      {
        ...base,
        ...later,
        ...none,
        SpanId: FAILED.SpanId,
        Provider: 'openai',
        RequestModel: 'gpt-4o',
        Streamed: 1,
        StatusCode: 'Error',
        ErrorType: '429',
        Outcome: 'error',
        DurationMs: 120,
        TtftMs: null,
      },
      {
        ...base,
        ...later,
        ...none,
        SpanId: SLOW.SpanId,
        Provider: 'openai',
        RequestModel: 'gpt-4o',
        Streamed: 1,
        FinishReason: 'length',
        Outcome: 'truncated',
        DurationMs: 9800,
        TtftMs: 1500.25,
        InputTokens: 800,
        OutputTokens: 4096,
      },
    ]);
  });

  test("migration 9 recounts the old minutes to the previous release's answer, plus the aborted call it left out", async () => {
    // The previous release left aborted calls out of both rollups; migration 4's rule counts a call
    // aborted after its first chunk at its TTFT, and in completions as Aborted (not Good).
    const minute = '2026-11-30 10:00:00';
    expect(await ttftCounts('Abandoned = 0 AND Minute < \'2026-11-30 10:02:00\'')).toEqual(
      sortRows([...oldTtft, { Minute: minute, Model: 'gpt-4o', TtftBucketMs: latencyBucketMs(350), Calls: 1 }]),
    );
    expect(await ttftCounts('Abandoned = 1')).toEqual([]);
    expect(await completionCounts("Aborted = 0 AND Minute < '2026-11-30 10:02:00'")).toEqual(oldCompletion);
    expect(await completionCounts('Aborted = 1')).toEqual([{ Minute: minute, Model: 'gpt-4o', Good: 0, DurationBucketMs: latencyBucketMs(700), Calls: 1 }]);
    // The old per-call tables are emptied, their views gone.
    expect(await count('SELECT count() FROM otel.llm_completion_minute')).toBe(0);
    expect(await count("SELECT count() FROM system.tables WHERE database = 'otel' AND name LIKE 'llm\\_%\\_minute\\_%mv%'")).toBe(0);
  });

  test('the rollups and tables built after migration 9 count each old call once, the re-sent one too', async () => {
    // The previous release stored a re-sent call span twice (otel_traces and llm_calls); the later
    // migrations' backfills read llm_calls, and counted both copies until migration 9 deduplicated it.
    const calls = CALLS.length;
    expect(await count('SELECT count() FROM otel.llm_calls')).toBe(calls);
    for (const table of ['llm_call_hours', 'llm_cost_hours', 'llm_cost_minutes']) expect(await count(`SELECT sum(Calls) FROM otel.${table}`), table).toBe(calls);
    const phaseCalls = await count('SELECT sum(PhaseCalls) FROM otel.llm_latency_hours');
    expect(await count('SELECT sum(PhaseCalls) FROM otel.llm_latency_minutes')).toBe(phaseCalls);
    expect(phaseCalls).toBe(await count("SELECT count() FROM otel.llm_calls WHERE Streamed = 1 AND Outcome != 'aborted'"));
    // One call delivered twice is no duplicate call (a repeated prompt) of its own.
    expect(await count('SELECT count() FROM otel.llm_duplicate_calls')).toBe(0);
  });

  test('after the upgrade a new call counts once beside the old ones, and a re-sent old call not at all', async () => {
    const before = await completionCounts('1');
    const fresh: OtelTraceRow = {
      ...SLOW,
      TraceId: '6'.repeat(32),
      SpanId: '6'.repeat(16),
      Duration: String(610 * 1e6),
      SpanAttributes: { ...SLOW.SpanAttributes, 'gen_ai.response.finish_reasons': '["stop"]', 'llm.ttft_ms': '250' },
    };
    await storage.insertSpans([fresh]);
    await storage.insertSpans(BATCHES[0]!); // the old release's call, delivered once more
    const after = await completionCounts('1');
    const added = { Minute: '2026-11-30 10:01:00', Model: 'gpt-4o', Good: 1, DurationBucketMs: latencyBucketMs(610), Calls: 1 };
    expect(after).toEqual(sortRows([...before, added]));
    expect(await ttftCounts("Minute = '2026-11-30 10:01:00' AND TtftBucketMs = " + latencyBucketMs(250))).toEqual([
      { Minute: '2026-11-30 10:01:00', Model: 'gpt-4o', TtftBucketMs: latencyBucketMs(250), Calls: 1 },
    ]);
    expect(await count('SELECT count() FROM otel.otel_traces WHERE SpanId = {id:String}', { id: STREAMED.SpanId })).toBe(2); // the two copies the previous release stored; the re-sent call span is left out
  });
});

/** Rows in the order the queries return them (ORDER BY ALL over the same columns). */
function sortRows<T extends object>(list: T[]): T[] {
  const key = (r: T): string => JSON.stringify(Object.values(r).map((v) => (typeof v === 'number' ? String(v).padStart(12, '0') : v)));
  return [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
