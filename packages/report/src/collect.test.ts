// The report against seeded calls of known truth: every figure is recomputed here from the seed.
import { JSDOM } from 'jsdom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPolicy, conditionHolds, policyRows, type SloConfig } from '@llm-prism/grafana';
import { openStorage, PRICE_TABLE, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { nearestRank, phaseCalls, prefillOf, seededCallRow, seededTraceId, ttftCalls, type SeededCall } from '../test/seeded-calls.ts';
import { collectReport, type ReportData } from './collect.ts';
import { CHART_IDS, renderHtml, SLO_CHART_IDS } from './html.ts';
import { NO_SLO_IN_SCOPE, noSloConfigHint } from './no-slo-config.ts';
import { formatTerminal, usd } from './terminal.ts';

const SERVICE = `checkout "eu" ' \\ {service:String}`; // hostile on purpose: parameters, not concatenation
const END = Math.floor(Date.now() / 60_000) * 60_000;

const calls: Omit<SeededCall, 'service'>[] = [];
// A steady stream on two models, then an incident on gpt-4o in the last two minutes.
for (let i = 0; i < 40; i++) {
  calls.push({ model: 'gpt-4o-mini', provider: 'openai', ago: 30 + i * 4, streamed: true, outcome: 'success', finish: 'stop', setup: i === 0 ? 85 : 2 + (i % 5), queue: 40 + i, ttft: 200 + 5 * i, decode: 300 + i, duration: 600 + 6 * i, cache: i === 0 ? 'write' : 'hit', ...(i === 0 ? { missReason: 'cold' } : {}) });
}
for (let i = 0; i < 20; i++) {
  const slow = i >= 10;
  calls.push({ model: 'gpt-4o', provider: 'openai', ago: slow ? 20 + i : 1_500 + i * 10, streamed: true, outcome: i === 3 ? 'error' : i === 4 ? 'truncated' : 'success', finish: i === 4 ? 'length' : i === 3 ? undefined : 'stop', errorType: i === 3 ? 'server_error' : undefined, queue: 50 + i * 10, ttft: slow ? 1_900 + i : 400 + i, decode: 500, duration: (slow ? 2_500 : 900) + i, cache: 'none', retries: i === 5 ? 2 : 0, rateLimited: i === 5 ? 2 : 0, headroom: 0.5 - i / 100 });
}
calls.push({ model: 'claude-sonnet-5', provider: 'anthropic', ago: 100, streamed: true, outcome: 'success', finish: 'end_turn', setup: 40, queue: 30, ttft: 250, decode: 200, duration: 480, cache: 'write', missReason: 'evicted' });
calls.push({ model: 'claude-sonnet-5', provider: 'anthropic', ago: 90, streamed: true, outcome: 'success', finish: 'end_turn', queue: 30, ttft: 250, decode: 200, duration: 480, cache: 'write', missReason: 'prefix_changed', breakAt: 'system' });
calls.push({ model: 'claude-sonnet-5', provider: 'anthropic', ago: 80, streamed: true, outcome: 'aborted', queue: 30, ttft: 260, decode: 50, duration: 320, cache: 'hit' });
calls.push({ model: 'gpt-4o-mini', provider: 'openai', ago: 70, streamed: false, outcome: 'success', finish: 'stop', queue: 700, duration: 700, cache: 'none' });
// Aborts users feel: gave up after 1.5 s without a first token; broke off a slow stream after 2.6 s.
calls.push({ model: 'claude-sonnet-5', provider: 'anthropic', ago: 60, streamed: true, outcome: 'aborted', queue: 30, duration: 1_500, cache: 'none' });
calls.push({ model: 'claude-sonnet-5', provider: 'anthropic', ago: 50, streamed: true, outcome: 'aborted', queue: 30, ttft: 300, decode: 2_300, duration: 2_600, cache: 'none' });

const config: SloConfig = {
  window: '28d',
  database: 'otel',
  prices: PRICE_TABLE,
  slos: [{ id: 'checkout', service: SERVICE, ttft: { thresholdMs: 1000, objective: 0.95 }, completion: { thresholdMs: 2000, objective: 0.9 } }],
};

let storage: Storage;
let report: ReportData;

beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  // Every call on SERVICE with 2000 input tokens, 1500 of them read from cache on a hit.
  const seeded = calls.map((c): SeededCall => ({ ...c, service: SERVICE, rateLimited: c.rateLimited ?? 0, inputTokens: 2000, cacheReadTokens: c.cache === 'hit' ? 1500 : 0 }));
  const rows = seeded.map((c, i) => seededCallRow(c, i, END));
  await storage.insertSpans(rows);
  await storage.insertSpans(rows.slice(0, 5)); // delivered twice: must count once
  report = await collectReport({ client: storage.client, database: storage.database, config, from: END - 3_600_000, to: END, service: SERVICE });
});
afterAll(() => storage?.close());

describe('collectReport', () => {
  it("computes the TTFT anatomy by model with exact percentiles of the dashboards' rank over their calls, slowest prefill first", () => {
    const models = [...new Set(calls.map((c) => c.model))];
    for (const model of models) {
      const mine = calls.filter((c) => c.model === model);
      const got = report.anatomy.find((a) => a.model === model)!;
      // Aborted and non-streamed calls are in the totals, not in the phase split.
      const phases = phaseCalls(mine);
      expect(Number(got.calls)).toBe(mine.length);
      const setups = phases.filter((c) => c.setup !== undefined).map((c) => c.setup!);
      expect(got.setup_p50).toBe(nearestRank(setups, 0.5)); // null for gpt-4o: none recorded it
      expect(got.setup_p95).toBe(nearestRank(setups, 0.95));
      expect(got.queue_p50).toBe(nearestRank(phases.map((c) => c.queue), 0.5));
      expect(got.queue_p95).toBe(nearestRank(phases.map((c) => c.queue), 0.95));
      expect(got.ttft_p50).toBe(nearestRank(ttftCalls(mine).map((c) => c.ttft!), 0.5));
      expect(got.prefill_p95).toBe(nearestRank(phases.map(prefillOf), 0.95));
      expect(got.decode_p95).toBe(nearestRank(phases.map((c) => c.decode!), 0.95));
      expect(got.total_p50).toBe(nearestRank(mine.map((c) => c.duration), 0.5));
      expect(got.total_p95).toBe(nearestRank(mine.map((c) => c.duration), 0.95));
    }
    expect(report.anatomy[0]!.model).toBe('gpt-4o');
  });

  it('counts cache states, misses by reason and where prefixes broke', () => {
    const anthropic = report.cache.find((c) => c.provider === 'anthropic')!;
    expect([anthropic.hit, anthropic.write, anthropic.none].map(Number)).toEqual([1, 2, 2]);
    // A write read nothing: a miss. Hit ratio = hits ÷ (hits + misses), `none` left out.
    expect(anthropic.hit_ratio).toBeCloseTo(1 / 3, 12);
    const openai = report.cache.find((c) => c.provider === 'openai')!;
    expect(openai.hit_ratio).toBeCloseTo(39 / 40, 12);
    expect(openai.cached_token_share).toBeCloseTo((39 * 1500) / (calls.filter((c) => c.provider === 'openai').length * 2000), 12);
    expect(report.misses).toContainEqual({ provider: 'anthropic', reason: 'prefix_changed', break_at: 'system', calls: 1 });
    expect(report.misses).toContainEqual({ provider: 'anthropic', reason: 'evicted', break_at: '', calls: 1 });
    expect(report.misses).toContainEqual({ provider: 'openai', reason: 'cold', break_at: '', calls: 1 });
  });

  it('reports outcomes with finish reasons as sent, retries and headroom', () => {
    const outcome = (o: string) => report.outcomes.filter((r) => r.outcome === o).reduce((n, r) => n + Number(r.calls), 0);
    expect(outcome('error')).toBe(1);
    expect(outcome('truncated')).toBe(1);
    expect(outcome('aborted')).toBe(3);
    expect(report.outcomes).toContainEqual(expect.objectContaining({ model: 'gpt-4o', outcome: 'truncated', finish_reason: 'length' }));
    const openai = report.retries.find((r) => r.provider === 'openai')!;
    expect([openai.retried_calls, openai.retries, openai.rate_limited_attempts].map(Number)).toEqual([1, 2, 2]);
    expect(openai.min_headroom).toBeCloseTo(0.31, 9);
  });

  it('lists the slowest calls with their trace ids', () => {
    const slowest = [...calls.entries()].sort((a, b) => b[1].duration - a[1].duration).slice(0, 10);
    expect(report.slowest.map((s) => s.trace_id)).toEqual(slowest.map(([i]) => seededTraceId(i)));
  });

  it('gives each SLO its SLI, budget and burn rates from the rollups', () => {
    // TTFT: streamed calls; good when the first chunk came within 1000 ms. An abort before the
    // first chunk is a bad event once it waited past 1000 ms, no event before.
    const ttftCalls = calls.filter((c) => c.streamed && (c.outcome !== 'aborted' || c.ttft !== undefined || c.duration > 1000));
    const ttftGood = ttftCalls.filter((c) => c.ttft !== undefined && c.ttft <= 1000).length;
    expect(ttftCalls.filter((c) => c.outcome === 'aborted')).toHaveLength(3);
    const ttft = report.slos!.find((s) => s.kind === 'ttft')!;
    expect([ttft.good, ttft.total]).toEqual([ttftGood, ttftCalls.length]);
    expect(ttft.budgetRemaining).toBeCloseTo(1 - (ttftCalls.length - ttftGood) / ttftCalls.length / 0.05, 9);
    // The policy rows of the 95 % objective (the SLO overview's bars): per row the lower of its
    // windows' burn rates over whole rollup minutes up to END, from the calls.
    const burnOver = (seconds: number) => {
      const inWindow = ttftCalls.filter((c) => c.ago <= seconds);
      const bad = inWindow.filter((c) => c.ttft === undefined || c.ttft > 1000).length;
      return inWindow.length === 0 ? 0 : bad / inWindow.length / 0.05;
    };
    const policy = alertPolicy(0.95);
    const expected = policyRows(policy).map(({ severity, row }) => ({
      severity,
      long: row.long.label,
      short: row.short.label,
      threshold: row.burnRate,
      burnRate: Math.min(burnOver(row.long.seconds), burnOver(row.short.seconds)),
      holds: burnOver(row.long.seconds) > row.burnRate && burnOver(row.short.seconds) > row.burnRate,
    }));
    expect(ttft.policy.map(({ burnRate: _, ...r }) => r)).toEqual(expected.map(({ burnRate: _, ...r }) => r));
    ttft.policy.forEach((r, i) => expect(r.burnRate).toBeCloseTo(expected[i]!.burnRate, 9));
    // The seed's rows differ: the ticket rows hold, the page rows do not.
    expect(ttft.policy.map((r) => r.holds)).toEqual([false, false, true, true]);
    const byLabel = Object.fromEntries(policyRows(policy).flatMap(({ row }) => [row.long, row.short]).map((w) => [w.label, burnOver(w.seconds)]));
    expect(ttft.firing).toEqual({ page: conditionHolds(policy, 'page', byLabel), ticket: conditionHolds(policy, 'ticket', byLabel) });

    // Completion: good when successful within 2000 ms; an abort is a bad event past 2000 ms.
    const done = calls.filter((c) => c.outcome !== 'aborted' || c.duration > 2000);
    expect(done.filter((c) => c.outcome === 'aborted')).toHaveLength(1);
    const doneGood = done.filter((c) => c.outcome === 'success' && c.duration <= 2000).length;
    const completion = report.slos!.find((s) => s.kind === 'completion')!;
    expect([completion.good, completion.total]).toEqual([doneGood, done.length]);
    expect(completion.sli).toBeCloseTo(doneGood / done.length, 12);
    expect(completion.series.reduce((n, p) => n + p.total, 0)).toBe(done.length);
  });

  it('a range without calls (before the first, or another service) says so in one line, not as empty tables and an "unpriced" cost', async () => {
    const empty = await collectReport({ client: storage.client, database: storage.database, config, from: END - 30 * 86_400_000, to: END - 29 * 86_400_000, service: SERVICE });
    const text = formatTerminal(empty);
    expect(text).toContain(`No LLM calls of service ${SERVICE} stored in this range.`);
    expect(text).not.toMatch(/unpriced|TTFT anatomy/);
    expect(text).toContain('SLOs'); // the SLOs still say where they stand
  });

  it('prints every section in the terminal report', () => {
    const text = formatTerminal(report);
    for (const heading of ['SLOs', 'TTFT anatomy by model', 'Prompt cache', 'misses by reason', 'Outcomes', 'Retries and rate limits', 'Cost (USD', 'waste by cause', 'Slowest calls']) {
      expect(text).toContain(heading);
    }
    expect(text).toContain('prefix_changed  system');
    // Every policy row of every SLO, with its windows, threshold, burn rate and whether it holds.
    for (const s of report.slos!) {
      for (const r of s.policy) {
        expect(text).toMatch(new RegExp(`${r.severity} +${r.long} & ${r.short} +${r.threshold} +${r.burnRate.toFixed(2)} +${r.holds ? 'yes' : 'no'}`));
      }
    }
  });

  it('shows the policy rows in the HTML table', async () => {
    const dom = new JSDOM(await renderHtml(report)).window.document;
    const cells = [...dom.querySelectorAll('#slo-policy tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(cells.map((c) => c.slice(2))).toEqual(
      report.slos!.flatMap((s) => s.policy.map((r) => [r.severity, `${r.long} & ${r.short}`, String(r.threshold), r.burnRate.toFixed(2), r.holds ? 'holds' : 'no'])),
    );
    expect(cells.length).toBe(8); // two SLIs × four rows
  });

  it('shows the cost section in the HTML: total, spend by model, waste, what a prefix fix saves', async () => {
    const dom = new JSDOM(await renderHtml(report)).window.document;
    const cost = dom.getElementById('cost')!;
    expect(cost.querySelector('h2')?.textContent).toBe(`Cost: ${usd(report.cost.total_usd)}`);
    const models = [...cost.querySelectorAll('table')[0]!.querySelectorAll('tbody tr')].map((tr) => tr.querySelectorAll('td')[1]?.textContent);
    expect(models.sort()).toEqual(report.cost.by_model.map((r) => r.model).sort());
    expect(cost.textContent).toContain(`would have saved ${usd(report.cost.prefix_fix_savings_usd)}`);
    expect(cost.textContent).toContain('retries (failed attempts, not billed)');
  });
});

describe('collectReport without an SLO config', () => {
  let bare: ReportData;
  beforeAll(async () => {
    bare = await collectReport({ client: storage.client, database: storage.database, from: END - 3_600_000, to: END, service: SERVICE });
  });

  it('has slos null and every other section as with the config', () => {
    expect(bare.slos).toBeNull();
    const { generatedAt: _a, slos: _s, ...rest } = report;
    const { generatedAt: _b, slos: _n, ...bareRest } = bare;
    expect(bareRest).toEqual(rest);
    expect(bare.anatomy.length).toBeGreaterThan(0);
  });

  it('prints no SLO section in the terminal, the other sections as usual', () => {
    const text = formatTerminal(bare);
    expect(text).not.toMatch(/^SLOs$/m);
    expect(text).not.toContain(NO_SLO_IN_SCOPE);
    expect(text).toBe(formatTerminal({ ...report, slos: null, generatedAt: bare.generatedAt }));
    for (const heading of ['TTFT anatomy by model', 'Prompt cache', 'Outcomes', 'Retries and rate limits', 'Slowest calls']) expect(text).toContain(heading);
  });

  it('leaves the SLO table and charts out of the HTML and says how to add SLOs', async () => {
    const html = await renderHtml(bare);
    for (const id of CHART_IDS) {
      expect(html.includes(`id="${id}"`), id).toBe(!SLO_CHART_IDS.includes(id));
    }
    expect(html).not.toContain('<th>budget left</th>');
    expect(new JSDOM(html).window.document.getElementById('no-slo-config')?.textContent).toBe(noSloConfigHint());
  });

  it('with a config that has no SLO for the scope (prices alone, or another service): says so, no empty SLO tables or charts', async () => {
    const none = { ...bare, slos: [] };
    const html = await renderHtml(none);
    for (const id of SLO_CHART_IDS) expect(html.includes(`id="${id}"`), id).toBe(false);
    expect(html).not.toContain('<th>budget left</th>');
    expect(new JSDOM(html).window.document.getElementById('no-slo-in-scope')?.textContent).toBe(NO_SLO_IN_SCOPE);
    expect(formatTerminal(none)).toMatch(new RegExp(`^SLOs\\n  ${NO_SLO_IN_SCOPE.replace(/[.()]/g, '\\$&')}$`, 'm'));
  });
});
