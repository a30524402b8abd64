// The cost queries run in chDB: which table row prices a call, and the hourly cost rollup
// (llm_cost_hours) giving what pricing each call gives.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costedCallsSql, costSql, priceModelSql } from './cost.ts';
import { costHoursDdl } from './cost-hours.ts';
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
