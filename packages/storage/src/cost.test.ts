// The cost queries run in chDB: which table row prices a call, the hourly cost rollup
// (llm_cost_hours) giving what pricing each call gives, and the duplicate calls marked at insert
// (llm_duplicate_calls) being those the per-call window finds over every stored call, each written
// once, and their hourly sums (llm_duplicate_hours) being those duplicates' sums.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costedCallsSql, costSql, priceModelSql } from './cost.ts';
import { costHoursDdl, costRollupSelect } from './cost-hours.ts';
import { duplicateCallsDdl, PREVIOUS_SAME_PROMPT, repeatsWithinWindow } from './duplicate-calls.ts';
import { duplicateHoursDdl } from './duplicate-hours.ts';
import { formatTimestamp } from './otel-traces.ts';
import { PRICE_TABLE, type ModelPrice } from './prices.ts';
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
  await rm(dataDir, { recursive: true, force: true });
});

const table: ModelPrice[] = [...PRICE_TABLE, { model: 'gpt-4o-2024-05-13', provider: 'openai', input: 5, output: 15, source: 'test', asOf: '2026-12-01' }];

async function priced(response: string, request = ''): Promise<string> {
  const rs = await storage.client.query({
    query: `SELECT ${priceModelSql(table)} AS m FROM (SELECT {r:String} AS ResponseModel, {q:String} AS RequestModel)`,
    query_params: { r: response, q: request },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ m: string }>())[0]!.m;
}

describe('which row prices a call', () => {
  it('maps dated snapshots and Gemini resource names to their family, an exact row first', async () => {
    expect(await priced('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(await priced('gpt-4o-2024-05-13')).toBe('gpt-4o-2024-05-13');
    expect(await priced('claude-sonnet-5-20260115')).toBe('claude-sonnet-5');
    expect(await priced('claude-opus-4-5@20251101')).toBe('claude-opus-4-5');
    expect(await priced('models/gemini-2.5-flash')).toBe('gemini-2.5-flash');
  });

  it('falls back to the request model, and leaves other names unpriced rather than pricing a neighbour', async () => {
    expect(await priced('my-azure-deployment', 'gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(await priced('', 'gpt-4.1')).toBe('gpt-4.1');
    expect(await priced('gpt-4o-mini-tts')).toBe('');
    expect(await priced('gpt-4o-realtime', 'unknown')).toBe('');
  });
});

describe('llm_cost_hours (migration 11)', () => {
  const H0 = Date.UTC(2026, 10, 20, 10, 0, 0);
  const HOUR = 3_600_000;
  const MODELS = [
    ['gpt-4o', 'gpt-4o-2024-08-06'],
    ['claude-sonnet-5', 'claude-sonnet-5'],
    ['gemini-2.5-flash', 'gemini-2.5-flash'],
    ['gemini-2.5-pro', 'gemini-2.5-pro'],
    ['mystery-model', ''],
  ] as const;
  const STATES = ['hit', 'miss', 'write', 'none'];
  const OUTCOMES = ['success', 'success', 'error', 'truncated'];
  // 3 hours of calls a minute apart; a third repeat the previous call's prompt 30 s later
  // (duplicates, also across hour boundaries), and prompts recur 50 calls later (not duplicates).
  const spans = Array.from({ length: 180 }, (_, i) => {
    const r = (k: number) => ((i * 2654435761 + k * 40503) >>> 0) % 1000;
    const [model, response] = MODELS[r(1) % MODELS.length]!;
    const state = STATES[r(2) % STATES.length]!;
    const input = r(3) % 10 === 0 ? 250_000 + r(4) : 100 + r(4) * 10;
    const hex = (1000 + i).toString(16).padStart(16, '0');
    return otelTraceRow({
      Timestamp: formatTimestamp(BigInt(H0 + i * 60_000 - (i % 3 === 1 ? 30_000 : 0) + (r(5) % 20)) * 1_000_000n),
      TraceId: hex.padStart(32, '0'),
      SpanId: hex,
      SpanName: `chat ${model}`,
      SpanKind: 'Client',
      ServiceName: 'svc',
      SpanAttributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'p',
        'gen_ai.request.model': model,
        'gen_ai.response.model': response,
        'gen_ai.usage.input_tokens': String(input),
        'gen_ai.usage.output_tokens': String(r(6) % 300),
        'gen_ai.usage.reasoning.output_tokens': String(r(7) % 100),
        'gen_ai.usage.cache_read.input_tokens': String(state === 'hit' ? Math.floor(input / 2) : 0),
        'gen_ai.usage.cache_creation.input_tokens': String(state === 'write' ? Math.floor(input / 3) : 0),
        'llm.outcome': OUTCOMES[r(8) % OUTCOMES.length]!,
        'llm.attempts': String(1 + (r(9) % 3)),
        'llm.cache.state': state,
        ...(state === 'miss' ? { 'llm.cache.miss_reason': 'prefix_changed', 'llm.cache.break_at': 'system' } : {}),
        'llm.prompt.hash': `h${(i % 3 === 1 ? i - 1 : i) % 50}`,
      },
      Duration: 1_000_000_000,
    });
  });
  const snapshot = () => rows('SELECT * FROM otel.llm_cost_hours FINAL ORDER BY ALL');
  const rows = async (query: string) => (await storage.client.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();

  beforeAll(async () => {
    await storage.insertSpans(spans);
  });

  it('holds what the view summed at insert; the one-time backfill sums the same, once', async () => {
    const fed = await snapshot();
    expect(fed.length).toBeGreaterThan(20);
    expect(fed.reduce((n, r) => n + Number(r.Calls), 0)).toBe(spans.length);
    await storage.client.command({ query: 'TRUNCATE TABLE otel.llm_cost_hours' });
    const backfill = costHoursDdl({ database: 'otel' }).at(-1)!;
    await storage.client.command({ query: backfill });
    await storage.client.command({ query: backfill });
    expect(await snapshot()).toEqual(fed);
  });

  it('whole hours priced from the rollup give what pricing each call gives, duplicates included', async () => {
    const [from, to] = [H0 + HOUR, H0 + 3 * HOUR];
    const where = `Timestamp >= fromUnixTimestamp64Milli(${from}) AND Timestamp < fromUnixTimestamp64Milli(${to})`;
    // Whole hours only: the rollups alone serve this range.
    const sql = costSql(PRICE_TABLE, {
      calls: 'otel.llm_calls',
      duplicates: 'otel.llm_duplicate_calls',
      where,
      tiered: (q) => {
        const keys = [...q.dims, ...(q.computed ?? []).map((d) => d.name)];
        // The rollup's rows as they are, as the dashboards' tiered source passes them.
        return `(SELECT ${[...keys, ...q.parts.map((p) => p.name)].join(', ')} FROM otel.${q.hours}
          WHERE Hour >= toDateTime(${from / 1000}) AND Hour < toDateTime(${to / 1000}))`;
      },
    });
    const calls = `(${costedCallsSql(PRICE_TABLE, 'otel.llm_calls', where)})`;
    const round = (rs: Record<string, unknown>[]) => rs.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : /^-?[\d.e+-]+$/.test(String(v)) ? Math.round(Number(v) * 1e12) / 1e12 : v])));
    const waste = round(await rows(sql.waste));
    expect(waste).toEqual(
      round(await rows(`SELECT WasteCause AS cause, count() AS calls, countIf(WasteUsd IS NULL) AS unpriced_calls, sum(WasteUsd) AS waste_usd FROM ${calls}
        WHERE WasteCause != '' GROUP BY cause ORDER BY waste_usd DESC NULLS LAST, cause`)),
    );
    expect(waste.map((w) => w.cause)).toContain('duplicate');
    expect(round(await rows(sql.byModel))).toEqual(
      round(await rows(`SELECT ServiceName AS service, if(PriceModel != '', PriceModel, RequestModel) AS model, count() AS calls, countIf(CostUsd IS NULL) AS unpriced_calls,
        sum(CostUsd) AS cost_usd FROM ${calls} GROUP BY service, model ORDER BY cost_usd DESC NULLS LAST, service, model`)),
    );
    expect(round(await rows(sql.retries))).toEqual(
      round(await rows(`SELECT sum(Retries) AS failed_attempts, sum(RateLimitedAttempts) AS rate_limited_attempts, countIf(Retries > 0) AS retried_calls FROM ${calls}`)),
    );
  });
});

const D0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const spanId = (i: number) => (0x5000 + i).toString(16).padStart(16, '0');

/** A call of `service` with prompt `hash` starting `ms` after D0 (ns precision kept). */
const promptCall = (i: number, service: string, hash: string, ms: number, ns = 0) => {
  const hex = spanId(i);
  return otelTraceRow({
    Timestamp: formatTimestamp(BigInt(D0 + ms) * 1_000_000n + BigInt(ns)),
    TraceId: hex.padStart(32, '0'),
    SpanId: hex,
    SpanName: 'chat m',
    SpanKind: 'Client',
    ServiceName: service,
    SpanAttributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': String(100 + i), 'llm.prompt.hash': hash },
    Duration: 1_000_000,
  });
};

const ids = async (query: string) =>
  (await (await storage.client.query({ query, format: 'JSONEachRow' })).json<{ SpanId: string }>()).map((r) => r.SpanId).sort();
/** The per-call definition over every stored call. */
const expectedDuplicates = () =>
  ids(`SELECT SpanId FROM (SELECT SpanId, PromptHash, Timestamp, max(Timestamp) OVER (${PREVIOUS_SAME_PROMPT}) AS _P FROM otel.llm_calls WHERE ServiceName IN ('a', 'b')) WHERE ${repeatsWithinWindow('_P')}`);
const marked = () => ids("SELECT DISTINCT SpanId FROM otel.llm_duplicate_calls WHERE ServiceName IN ('a', 'b')");
const records = async (query: string) => (await storage.client.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();
/** llm_duplicate_hours' rows, and the hourly sums of the per-call definition's duplicates among every stored call. */
const duplicateHours = () => records('SELECT * FROM otel.llm_duplicate_hours FINAL ORDER BY ALL');
const expectedDuplicateHours = () =>
  records(`SELECT * FROM (${costRollupSelect(`(SELECT * FROM (SELECT *, max(Timestamp) OVER (${PREVIOUS_SAME_PROMPT}) AS _P FROM otel.llm_calls) WHERE ${repeatsWithinWindow('_P')})`)}) ORDER BY ALL`);

describe('llm_duplicate_calls (migration 12)', () => {
  // Chains, exact 60 s edges (60.000 s is one, 60.001 s is not), equal starts, two services, calls
  // without a prompt hash, and twins in one batch.
  const CALLS = [
    promptCall(1, 'a', 'h1', 0),
    promptCall(2, 'a', 'h1', 30_000),
    promptCall(3, 'a', 'h1', 90_000),
    promptCall(4, 'a', 'h1', 150_001),
    promptCall(5, 'a', 'h2', 0),
    promptCall(6, 'a', 'h2', 60_000, 999_999),
    promptCall(7, 'b', 'h1', 10_000),
    promptCall(8, 'b', 'h1', 10_000),
    promptCall(9, 'a', '', 1_000),
    promptCall(10, 'a', '', 2_000),
    promptCall(11, 'a', 'h3', 200_000),
    promptCall(12, 'a', 'h3', 250_000),
    promptCall(13, 'a', 'h3', 300_000),
    promptCall(14, 'b', 'h4', 3_600_000 - 20_000),
    promptCall(15, 'b', 'h4', 3_600_000 + 20_000),
    // 18 is a duplicate of 16; 17 arrives later, between them: 18 stays one duplicate.
    promptCall(16, 'a', 'h5', 400_000),
    promptCall(17, 'a', 'h5', 420_000),
    promptCall(18, 'a', 'h5', 440_000),
  ];

  it('marks every duplicate once the calls are in, in any order and batches, late twins included', async () => {
    // Later calls first, then the ones before them (late arrivals), some alone, some together.
    const order = [[3, 4, 13, 16, 18], [1], [12, 15], [2, 11, 17], [5, 6, 7, 8, 9, 10, 14]];
    for (const batch of order) await storage.insertSpans(batch.map((i) => CALLS[i - 1]!));
    const want = await expectedDuplicates();
    // 60.001 s after its twin (4) is beyond the window, 60.000999999 s (6) is not: milliseconds
    // count; of two calls starting together (7, 8) the second by SpanId; across an hour (15).
    expect(want).toEqual([2, 3, 6, 8, 12, 13, 15, 17, 18].map(spanId));
    // Each written once (migration 13's view): 3 when its late twin 2 arrived, 18 not again when 17 did.
    expect(await ids("SELECT SpanId FROM otel.llm_duplicate_calls WHERE ServiceName IN ('a', 'b')")).toEqual(want);
  });

  it('llm_duplicate_hours holds the hourly sums of the duplicates, each once', async () => {
    const hours = await duplicateHours();
    expect(hours.length).toBeGreaterThan(10);
    expect(hours).toEqual(await expectedDuplicateHours());
  });

  it('the backfill of an existing install finds the same duplicates', async () => {
    await storage.client.command({ query: 'TRUNCATE TABLE otel.llm_duplicate_calls' });
    await storage.client.command({ query: duplicateCallsDdl({ database: 'otel' }).at(-1)! });
    // The whole table: the other tests' duplicates too.
    const all = `SELECT SpanId FROM (SELECT SpanId, PromptHash, Timestamp, max(Timestamp) OVER (${PREVIOUS_SAME_PROMPT}) AS _P FROM otel.llm_calls) WHERE ${repeatsWithinWindow('_P')}`;
    expect(await ids('SELECT SpanId FROM otel.llm_duplicate_calls')).toEqual(await ids(all));
    expect(await marked()).toEqual(await expectedDuplicates());
  });

  it("migration 13's backfill sums each duplicate once, marked twice or not, and only into an empty table", async () => {
    // Every call marked twice, as migration 12's view could: the backfill reads llm_duplicate_calls FINAL.
    await storage.client.command({ query: duplicateCallsDdl({ database: 'otel' }).at(-1)! });
    expect((await ids('SELECT SpanId FROM otel.llm_duplicate_calls')).length).toBe(2 * (await ids('SELECT SpanId FROM otel.llm_duplicate_calls FINAL')).length);
    await storage.client.command({ query: 'TRUNCATE TABLE otel.llm_duplicate_hours' });
    const backfill = duplicateHoursDdl({ database: 'otel' }).at(-1)!;
    await storage.client.command({ query: backfill });
    await storage.client.command({ query: backfill });
    expect(await duplicateHours()).toEqual(await expectedDuplicateHours());
  });
});
