// Cost and waste on seeded calls of known tokens and prices: the report's cost section and every
// panel of the committed cost dashboard (same SQL, Grafana macros expanded as the plugin does) show
// the dollars worked out by hand below (docs/cost.md: the formula and the waste causes).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL, expandMacros, generateFiles, parseSloConfig, type ClickHouseQuery, type SloConfig } from '@llm-prism/grafana';
import { collectReport, formatTerminal, type ReportData } from '@llm-prism/report';
import { costedCallsSql, formatTimestamp, openStorage, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';

const ROOT = new URL('..', import.meta.url).pathname;
const SERVICE = 'shop';
const START = Date.UTC(2026, 10, 20, 10, 0, 0);
const RANGE = { from: START, to: START + 3_600_000 };

interface Seed {
  at: number; // s after START
  model: string;
  response?: string;
  outcome?: string;
  input: number;
  output: number;
  read?: number;
  write?: number;
  reasoning?: number;
  state?: string;
  reason?: string;
  breakAt?: string;
  hash?: string;
  conversation?: string;
  retries?: number;
  rateLimited?: number;
  /** USD worked out by hand from the tokens and the table's prices; null: unpriced. */
  cost: number | null;
}

// Prices: gpt-4o 2.50 in / 1.25 cached / 10 out; gpt-4o-mini 0.15 / 0.60; claude-sonnet-5 2 in /
// 2.50 5m write / 0.20 read / 10 out; gemini-2.5-pro 2.50 / 15 above 200k input; gemini-2.5-flash
// has no cached-input price; my-reasoner (configured below) 1 in / 4 out / 2 reasoning.
const SEED: Seed[] = [
  { at: 0, model: 'gpt-4o', input: 1000, output: 200, cost: (1000 * 2.5 + 200 * 10) / 1e6 },
  { at: 10, model: 'gpt-4o', response: 'gpt-4o-2024-08-06', input: 2000, read: 1024, output: 100, state: 'hit', cost: (976 * 2.5 + 1024 * 1.25 + 100 * 10) / 1e6 },
  { at: 20, model: 'gpt-4o', outcome: 'truncated', input: 500, output: 400, cost: (500 * 2.5 + 400 * 10) / 1e6 },
  // A stream that failed after its output began: its tokens were billed.
  { at: 30, model: 'gpt-4o', outcome: 'error', input: 300, output: 50, cost: (300 * 2.5 + 50 * 10) / 1e6 },
  // Two 429s, then a third attempt answered 503: no answer, no tokens, nothing billed.
  { at: 40, model: 'gpt-4o', outcome: 'error', input: 0, output: 0, retries: 2, rateLimited: 2, cost: 0 },
  { at: 50, model: 'claude-sonnet-5', response: 'claude-sonnet-5-20260115', input: 3000, write: 2500, output: 100, state: 'write', reason: 'prefix_changed', breakAt: 'system', conversation: 'conv-1', cost: (500 * 2 + 2500 * 2.5 + 100 * 10) / 1e6 },
  { at: 60, model: 'claude-sonnet-5', input: 3100, read: 2500, output: 100, state: 'hit', conversation: 'conv-1', cost: (600 * 2 + 2500 * 0.2 + 100 * 10) / 1e6 },
  { at: 70, model: 'claude-sonnet-5', input: 1500, output: 0, state: 'miss', reason: 'cold', conversation: 'conv-2', cost: (1500 * 2) / 1e6 },
  { at: 100, model: 'gpt-4o-mini', input: 800, output: 20, state: 'none', hash: 'aaaa', cost: (800 * 0.15 + 20 * 0.6) / 1e6 },
  { at: 130, model: 'gpt-4o-mini', input: 800, output: 20, state: 'none', hash: 'aaaa', cost: (800 * 0.15 + 20 * 0.6) / 1e6 }, // duplicate
  { at: 400, model: 'gpt-4o-mini', input: 800, output: 20, state: 'none', hash: 'aaaa', cost: (800 * 0.15 + 20 * 0.6) / 1e6 }, // 270 s later: not one
  { at: 500, model: 'mystery-model', input: 100, output: 100, cost: null },
  { at: 510, model: 'gemini-2.5-flash', input: 400, read: 100, output: 10, state: 'hit', cost: null },
  { at: 520, model: 'gemini-2.5-pro', input: 300_000, output: 1000, cost: (300_000 * 2.5 + 1000 * 15) / 1e6 },
  { at: 530, model: 'my-reasoner', input: 1000, output: 500, reasoning: 300, cost: (1000 * 1 + 200 * 4 + 300 * 2) / 1e6 },
];
const MISS_EXTRA = { prefixChanged: (2500 * (2.5 - 0.2)) / 1e6, cold: (1500 * (2 - 0.2)) / 1e6 };

const CONFIG = `window: 28d
slos:
  - service: ${SERVICE}
    ttft: { thresholdMs: 1500, objective: 0.95 }
    completion: { thresholdMs: 20000, objective: 0.99 }
prices:
  - model: my-reasoner
    provider: openai
    input: 1
    output: 4
    reasoning: 2
    source: test
`;

function row(s: Seed, i: number) {
  const attrs: Record<string, string> = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'p',
    'gen_ai.request.model': s.model,
    'gen_ai.response.model': s.response ?? s.model,
    'gen_ai.usage.input_tokens': String(s.input),
    'gen_ai.usage.output_tokens': String(s.output),
    'gen_ai.usage.cache_read.input_tokens': String(s.read ?? 0),
    'gen_ai.usage.cache_creation.input_tokens': String(s.write ?? 0),
    'llm.outcome': s.outcome ?? 'success',
    'llm.attempts': String((s.retries ?? 0) + 1),
    'llm.rate_limited_attempts': String(s.rateLimited ?? 0),
    'llm.cache.state': s.state ?? 'none',
  };
  if (s.reasoning !== undefined) attrs['gen_ai.usage.reasoning.output_tokens'] = String(s.reasoning);
  if (s.reason) attrs['llm.cache.miss_reason'] = s.reason;
  if (s.breakAt) attrs['llm.cache.break_at'] = s.breakAt;
  if (s.hash) attrs['llm.prompt.hash'] = s.hash;
  if (s.conversation) attrs['gen_ai.conversation.id'] = s.conversation;
  const hex = i.toString(16).padStart(16, '0');
  return otelTraceRow({
    Timestamp: formatTimestamp(BigInt(START + s.at * 1000) * 1_000_000n),
    TraceId: hex.padStart(32, '0'),
    SpanId: hex,
    SpanName: `chat ${s.model}`,
    SpanKind: 'Client',
    ServiceName: SERVICE,
    SpanAttributes: attrs,
    Duration: 1_000_000_000,
    StatusCode: s.outcome === 'error' ? 'Error' : 'Unset',
  });
}

const sum = (seeds: Seed[]) => seeds.reduce((s, c) => s + (c.cost ?? 0), 0);
const by = (f: (s: Seed) => boolean) => SEED.filter(f);
const close = (actual: unknown, expected: number) => expect(Number(actual)).toBeCloseTo(expected, 12);

let storage: Storage;
let dataDir: string;
let config: SloConfig;
let report: ReportData;

beforeAll(async () => {
  config = parseSloConfig(CONFIG);
  dataDir = await tempDataDir('llm-prism-cost-');
  storage = await openStorage({ dataDir });
  const rows = SEED.map(row);
  await storage.insertSpans(rows);
  await storage.insertSpans(rows.slice(0, 3)); // redelivered: counted once (FINAL)
  report = await collectReport({ client: storage.client, database: 'otel', config, ...RANGE, service: SERVICE });
});

afterAll(async () => {
  await storage?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe('cost and waste in the report', () => {
  it('prices each model from its calls’ tokens, dated snapshots by their family, unknown ones as unpriced', () => {
    const models = [...new Set(SEED.map((s) => s.model))];
    const expected = models.map((model) => {
      const seeds = by((s) => s.model === model);
      const priced = seeds.filter((s) => s.cost !== null);
      return { service: SERVICE, model, calls: seeds.length, unpriced_calls: seeds.length - priced.length, cost: priced.length > 0 ? sum(priced) : null };
    });
    expect(report.cost.by_model.map((r) => r.model).sort()).toEqual(models.sort());
    for (const e of expected) {
      const r = report.cost.by_model.find((x) => x.model === e.model)!;
      expect([r.service, r.calls, r.unpriced_calls]).toEqual([e.service, e.calls, e.unpriced_calls]);
      if (e.cost === null) expect(r.cost_usd).toBeNull();
      else close(r.cost_usd, e.cost);
    }
    close(report.cost.total_usd, sum(SEED));
    expect(report.cost.unpriced_calls).toBe(2);
  });

  it('names the waste of each cause: errors, truncations, duplicates and cache misses', () => {
    const waste = Object.fromEntries(report.cost.waste.map((w) => [w.cause, [Number(w.calls), Number(w.waste_usd)]]));
    expect(Object.keys(waste).sort()).toEqual(['cache_miss', 'duplicate', 'error', 'truncated']);
    expect(waste.error![0]).toBe(2);
    close(waste.error![1], sum(by((s) => s.outcome === 'error')));
    expect(waste.truncated![0]).toBe(1);
    close(waste.truncated![1], sum(by((s) => s.outcome === 'truncated')));
    expect(waste.duplicate![0]).toBe(1);
    close(waste.duplicate![1], (800 * 0.15 + 20 * 0.6) / 1e6);
    expect(waste.cache_miss![0]).toBe(2);
    close(waste.cache_miss![1], MISS_EXTRA.prefixChanged + MISS_EXTRA.cold);
    close(report.cost.prefix_fix_savings_usd, MISS_EXTRA.prefixChanged);
    expect(report.cost.attempts).toEqual({ failed_attempts: 2, rate_limited_attempts: 2, retried_calls: 1, billed_usd: 0 });
  });

  it('ranks conversations by cost and prints the section', () => {
    expect(report.cost.conversations.map((c) => c.conversation)).toEqual(['conv-1', 'conv-2']);
    close(report.cost.conversations[0]!.cost_usd, sum(by((s) => s.conversation === 'conv-1')));
    const text = formatTerminal(report);
    // The config's one row (my-reasoner) is said: the figures are not the shipped table's alone.
    expect(report.cost.config_price_rows).toBe(1);
    expect(text).toContain(`Cost (USD, prices of the table in docs/cost.md with 1 row of the config's prices:): $${sum(SEED).toFixed(6)} — 2 calls unpriced`);
    expect(text).toContain(`would have saved $${MISS_EXTRA.prefixChanged.toFixed(6)}`);
  });
});

describe('cost dashboard', () => {
  const panels = async () => {
    const committed = JSON.parse(await readFile(join(ROOT, 'grafana/dashboards/cost.json'), 'utf8')) as { panels: { title: string; targets: ClickHouseQuery[] }[] };
    // The committed dashboard is priced from the demo config; this seed's config adds my-reasoner.
    const generated = JSON.parse(generateFiles(config).get('dashboards/cost.json')!) as typeof committed;
    expect(generated.panels.map((p) => p.title)).toEqual(committed.panels.map((p) => p.title));
    return generated.panels;
  };
  // One $__timeInterval bucket holding the whole range: a series' single point is the range's figure.
  const INTERVAL_S = 2 ** 32;
  /** A USD-per-hour point of that bucket as the bucket's dollars. */
  const dollars = (perHour: unknown) => (Number(perHour) * INTERVAL_S) / 3600;
  const run = async (sql: string) => {
    const query = expandMacros(sql, { ...RANGE, intervalMs: INTERVAL_S * 1000, vars: { service: [SERVICE], model: ALL } });
    return (await storage.client.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  };

  it('shows the report’s figures in every panel (one definition)', async () => {
    const byTitle = new Map((await panels()).map((p) => [p.title, p.targets[0]!.rawSql]));
    const series = await run(byTitle.get('Cost per service and model — USD per hour')!);
    for (const r of report.cost.by_model) {
      const point = series.find((s) => s.model === r.model);
      if (r.cost_usd === null) expect(point?.usd_per_hour ?? null).toBeNull();
      else close(dollars(point?.usd_per_hour), r.cost_usd);
    }
    const wasteSeries = await run(byTitle.get('Waste by cause — USD per hour')!);
    expect(wasteSeries).toHaveLength(report.cost.waste.length);
    for (const w of report.cost.waste) close(dollars(wasteSeries.find((s) => s.WasteCause === w.cause)?.wasted_usd_per_hour), Number(w.waste_usd));
    const num = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^[\d.e-]+$/.test(v) ? Number(v) : v])));
    expect(num(await run(byTitle.get('Cost by service and model')!))).toEqual(report.cost.by_model);
    expect(num(await run(byTitle.get('Waste by cause')!))).toEqual(report.cost.waste);
    expect(num(await run(byTitle.get('Cache-miss waste by reason')!))).toEqual(report.cost.miss_waste);
    expect(num(await run(byTitle.get('Most expensive conversations')!))).toEqual(report.cost.conversations);
    const [savings] = await run(byTitle.get('Savings of a stable system prompt')!);
    close(savings?.savings_usd, MISS_EXTRA.prefixChanged);
    const [attempts] = num(await run(byTitle.get('Failed attempts before an answer (not billed)')!));
    expect(attempts).toEqual({ failed_attempts: 2, rate_limited_attempts: 2, retried_calls: 1 });
  });

  it('is priced from the config: a model added under prices: appears on the regenerated dashboard', async () => {
    const committed = await readFile(join(ROOT, 'grafana/dashboards/cost.json'), 'utf8');
    expect(committed).not.toContain('my-reasoner');
    expect(generateFiles(config).get('dashboards/cost.json')).toContain("'my-reasoner'");
  });
});

// The hourly cost rollup (llm_cost_hours) and the duplicate check over repeated prompts only must
// give what the per-call definition gives, at any range: whole hours, edges cut mid-hour,
// duplicates across an hour boundary and across the range start, a duplicate that is also a cache
// miss, unpriced models and token classes, the long-context tier.
describe('cost panels at any range agree with the per-call definition', () => {
  const EDGES = 'edges';
  const T0 = START + 3 * 3_600_000; // 13:00
  const at = (h: number, m: number, s: number) => T0 + ((h - 13) * 3600 + m * 60 + s) * 1000;
  type Call = { t: number; model: string; response?: string; outcome?: string; input: number; output: number; read?: number; write?: number; reasoning?: number; state?: string; reason?: string; breakAt?: string; hash?: string; retries?: number };
  const miss = { state: 'miss', reason: 'prefix_changed', breakAt: 'system' };
  const CALLS: Call[] = [
    // A duplicate across 14:00 that is also a cache miss: it counts as a duplicate.
    { t: at(13, 59, 40), model: 'claude-sonnet-5', input: 3000, write: 2500, output: 100, state: 'write', reason: 'cold', hash: 'h1' },
    { t: at(14, 0, 10), model: 'claude-sonnet-5', input: 3000, write: 2500, output: 100, state: 'write', reason: 'prefix_changed', breakAt: 'system', hash: 'h1' },
    // Across 13:20:00 (a range start below): the second is a duplicate in that range too, its twin being before it.
    { t: at(13, 19, 50), model: 'gpt-4o', input: 1000, output: 10, ...miss, hash: 'h2' },
    { t: at(13, 20, 20), model: 'gpt-4o', input: 1000, output: 10, ...miss, hash: 'h2' },
    // An errored duplicate stays an error; a chain of three within 60 s.
    { t: at(13, 30, 0), model: 'gpt-4o', input: 500, output: 5, hash: 'h3' },
    { t: at(13, 30, 30), model: 'gpt-4o', outcome: 'error', input: 500, output: 5, hash: 'h3' },
    { t: at(14, 10, 0), model: 'gpt-4o-mini', input: 100, output: 1, hash: 'h4' },
    { t: at(14, 10, 50), model: 'gpt-4o-mini', input: 100, output: 1, hash: 'h4' },
    { t: at(14, 11, 40), model: 'gpt-4o-mini', input: 100, output: 1, ...miss, hash: 'h4' },
    // Unpriced: a model without a row (with and without tokens), a token class without a price.
    { t: at(13, 40, 0), model: 'mystery-model', input: 100, output: 100, hash: 'h5' },
    { t: at(13, 40, 30), model: 'mystery-model', input: 0, output: 0, hash: 'h5' },
    { t: at(14, 40, 0), model: 'gemini-2.5-flash', input: 400, read: 100, output: 10, state: 'miss', reason: 'expired', hash: 'h6' },
    { t: at(14, 40, 20), model: 'gemini-2.5-flash', input: 400, read: 100, output: 10, state: 'miss', reason: 'expired', hash: 'h6' },
    // The long-context tier (above 200 000 input tokens) and just below it.
    { t: at(13, 50, 0), model: 'gemini-2.5-pro', input: 300_000, output: 1000 },
    { t: at(14, 50, 0), model: 'gemini-2.5-pro', input: 200_000, output: 1000, outcome: 'truncated' },
    { t: at(12, 50, 0), model: 'gemini-3.1-pro', input: 250_000, output: 10 },
    { t: at(14, 20, 0), model: 'my-reasoner', response: 'my-reasoner', input: 1000, output: 500, reasoning: 300, retries: 2 },
    { t: at(13, 5, 0), model: 'gpt-4o', response: 'gpt-4o-2024-08-06', input: 2000, read: 1024, output: 100, state: 'hit', retries: 1 },
  ];
  // And a deterministic spread of calls over 12:00–16:00 repeating a few prompts.
  const MODELS = ['gpt-4o', 'claude-sonnet-5', 'gemini-2.5-flash', 'mystery-model', 'gemini-2.5-pro'];
  const STATES = ['hit', 'miss', 'write', 'none', 'partial'];
  const OUTCOMES = ['success', 'success', 'success', 'error', 'truncated', 'aborted'];
  for (let i = 0; i < 240; i++) {
    const r = (k: number) => ((i * 2654435761 + k * 40503) >>> 0) % 1000;
    const state = STATES[r(1) % 5]!;
    const input = 200 + r(2) * 10;
    CALLS.push({
      t: START + 2 * 3_600_000 + Math.floor((i * 4 * 3_600_000) / 240) + r(3) * 7,
      model: MODELS[r(4) % 5]!,
      outcome: OUTCOMES[r(5) % 6]!,
      input,
      output: r(6) % 50,
      read: state === 'hit' ? Math.floor(input / 2) : 0,
      write: state === 'write' ? Math.floor(input / 3) : 0,
      state,
      ...(state === 'miss' || state === 'write' ? { reason: ['cold', 'prefix_changed', 'expired'][r(7) % 3]!, breakAt: r(8) % 2 === 0 ? 'system' : 'tools' } : {}),
      hash: `p${r(9) % 6}`,
      retries: r(10) % 7 === 0 ? 1 : 0,
    });
  }

  const rowOf = (c: Call, i: number) =>
    row({ at: (c.t - START) / 1000, ...c, cost: null }, 10_000 + i);

  beforeAll(async () => {
    const rows = CALLS.map(rowOf).map((r) => ({ ...r, ServiceName: EDGES, ResourceAttributes: { ...r.ResourceAttributes, 'service.name': EDGES } }));
    await storage.insertSpans(rows);
  });

  // The per-call definition: every call priced and its cause assigned one at a time.
  const reference = (cfg: SloConfig, where: string) => {
    const calls = `(${costedCallsSql(cfg.prices, 'otel.llm_calls', where)})`;
    return {
      byModel: `SELECT ServiceName AS service, if(PriceModel != '', PriceModel, RequestModel) AS model, count() AS calls, countIf(CostUsd IS NULL) AS unpriced_calls, sum(CostUsd) AS cost_usd FROM ${calls} GROUP BY service, model`,
      waste: `SELECT WasteCause AS cause, count() AS calls, countIf(WasteUsd IS NULL) AS unpriced_calls, sum(WasteUsd) AS waste_usd FROM ${calls} WHERE WasteCause != '' GROUP BY cause`,
      missWaste: `SELECT CacheMissReason AS reason, CacheBreakAt AS break_at, count() AS calls, countIf(WasteUsd IS NULL) AS unpriced_calls, sum(WasteUsd) AS waste_usd FROM ${calls} WHERE WasteCause = 'cache_miss' GROUP BY reason, break_at`,
      // No such miss saves 0 (NULL: every one of them unpriced).
      prefixFix: `SELECT if(count() = 0, 0, sum(WasteUsd)) AS savings_usd, count() AS calls FROM ${calls} WHERE WasteCause = 'cache_miss' AND CacheMissReason = 'prefix_changed' AND CacheBreakAt = 'system'`,
      retries: `SELECT sum(Retries) AS failed_attempts, sum(RateLimitedAttempts) AS rate_limited_attempts, countIf(Retries > 0) AS retried_calls FROM ${calls}`,
      costSeries: `SELECT $__timeInterval(Timestamp) AS time, ServiceName, if(PriceModel != '', PriceModel, RequestModel) AS model, sum(CostUsd) * 3600 / $__interval_s AS usd_per_hour FROM ${calls} GROUP BY time, ServiceName, model`,
      wasteSeries: `SELECT $__timeInterval(Timestamp) AS time, WasteCause, sum(WasteUsd) * 3600 / $__interval_s AS wasted_usd_per_hour FROM ${calls} WHERE WasteCause != '' GROUP BY time, WasteCause`,
    };
  };
  const PANELS: Record<string, keyof ReturnType<typeof reference>> = {
    'Cost per service and model — USD per hour': 'costSeries',
    'Waste by cause — USD per hour': 'wasteSeries',
    'Cost by service and model': 'byModel',
    'Waste by cause': 'waste',
    'Cache-miss waste by reason': 'missWaste',
    'Savings of a stable system prompt': 'prefixFix',
    'Failed attempts before an answer (not billed)': 'retries',
  };
  /** Rows as sorted comparable records: numbers as numbers (USD rounded to 1e-12), everything else as text. */
  const canonical = (rows: Record<string, unknown>[]) =>
    rows
      .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : typeof v === 'number' || /^-?[\d.e+-]+$/.test(String(v)) ? Math.round(Number(v) * 1e12) / 1e12 : String(v)])))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const query = async (sql: string) => (await storage.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();

  const RANGES = [
    { name: 'whole hours', from: at(12, 0, 0), to: at(16, 0, 0) },
    { name: 'mid-hour edges', from: at(13, 20, 0), to: at(14, 40, 10) },
    { name: 'across 14:00 only', from: at(13, 59, 45), to: at(14, 0, 15) },
    { name: 'inside one hour', from: at(14, 5, 0), to: at(14, 45, 0) },
    { name: 'partial minutes at the edges', from: at(13, 19, 55), to: at(14, 40, 25) },
  ];
  // Buckets of whole hours (hourly rollup), of whole minutes (minute rollup) and of neither (calls).
  const INTERVALS_S = [60, 120, 3600, 5400, 90, 2 ** 32];

  /** Every cost panel of a dashboard generated from `cfg` gives the reference's rows over `range`. */
  async function panelsAgree(cfg: SloConfig, range: { from: number; to: number }) {
    const byTitle = new Map(
      (JSON.parse(generateFiles(cfg).get('dashboards/cost.json')!) as { panels: { title: string; targets: ClickHouseQuery[] }[] }).panels.map((p) => [p.title, p.targets[0]!.rawSql]),
    );
    // $service limits to the seeded service, $model is All.
    const ref = reference(cfg, `$__timeFilter(Timestamp) AND ServiceName IN ('${EDGES}')`);
    let wasted = 0;
    for (const intervalS of INTERVALS_S) {
      const ctx = { ...range, intervalMs: intervalS * 1000, vars: { service: [EDGES], model: ALL } };
      for (const [title, key] of Object.entries(PANELS)) {
        const actual = canonical(await query(expandMacros(byTitle.get(title)!, ctx)));
        const expected = canonical(await query(expandMacros(ref[key], ctx)));
        expect(actual, `${title} at ${intervalS} s`).toEqual(expected);
        if (key === 'waste') wasted += expected.length;
      }
    }
    expect(wasted).toBeGreaterThan(0);
  }

  it.each(RANGES)('$name: every panel at minute, hour, other and one-bucket intervals', (range) => panelsAgree(config, range));

  it('prices a long-context tier below the rollup floor from llm_calls, exactly', async () => {
    const low = parseSloConfig(`${CONFIG}  - model: gpt-4o-mini
    input: 0.15
    output: 0.6
    longContext: { aboveInputTokens: 150, input: 0.3, output: 1.2 }
`);
    expect(generateFiles(low).get('dashboards/cost.json')).not.toContain('llm_cost_hours');
    expect(generateFiles(config).get('dashboards/cost.json')).toContain('llm_cost_hours');
    await panelsAgree(low, RANGES[1]!);
  });

  it('finds duplicates across an hour boundary and the range start, and moves a duplicate cache miss', async () => {
    const waste = async (from: number, to: number) => {
      const r = await collectReport({ client: storage.client, database: 'otel', config, from, to, service: EDGES });
      return Object.fromEntries(r.cost.waste.map((w) => [w.cause, Number(w.calls)]));
    };
    // 13:59:40 and 14:00:10 (h1): the second is a duplicate although it is a cache miss.
    expect(await waste(at(13, 59, 0), at(14, 0, 30))).toMatchObject({ cache_miss: 1, duplicate: 1 });
    // Being a duplicate is a property of the call: from 13:20:00 the h2 call at 13:20:20 is one,
    // its twin (13:19:50) before the range, as it is from 13:19:00.
    expect((await waste(at(13, 20, 0), at(13, 21, 0))).duplicate).toBe(1);
    expect((await waste(at(13, 19, 0), at(13, 21, 0))).duplicate).toBe(1);
  });

  it('the report agrees with the per-call definition at millisecond edges', async () => {
    for (const [from, to] of [
      [at(13, 19, 59) + 250, at(14, 40, 0) + 999],
      [at(12, 0, 0), at(16, 0, 0)],
    ] as const) {
      const report = await collectReport({ client: storage.client, database: 'otel', config, from, to, service: EDGES });
      const where = `Timestamp >= fromUnixTimestamp64Milli(${from}) AND Timestamp < fromUnixTimestamp64Milli(${to}) AND ServiceName = '${EDGES}'`;
      const ref = reference(config, where);
      const strip = (rows: object[]) => canonical(rows as Record<string, unknown>[]);
      expect(strip(report.cost.by_model)).toEqual(canonical(await query(ref.byModel)));
      expect(strip(report.cost.waste)).toEqual(canonical(await query(ref.waste)));
      expect(strip(report.cost.miss_waste)).toEqual(canonical(await query(ref.missWaste)));
    }
  });
});
