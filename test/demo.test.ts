// `npm run demo`, shortened: every injected incident must show up in the report, classified right,
// and the HTML report must render its charts in a real browser (Debian's chromium; where it is not
// installed that one check is skipped with the reason printed, and .ci/run installs it).
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SERVICE, runDemo, SLOW_PREFILL_MODEL, type DemoResult } from '@llm-prism/demo';
import { alertPolicy, policyRows } from '@llm-prism/grafana';
import { CHART_IDS, usd } from '@llm-prism/report';
import { openStorage } from '@llm-prism/storage';
import { JSDOM } from 'jsdom';
import { renderInChromium } from '../packages/report/test/chromium.ts';
import { expectCacheAgreement } from './cache-agreement.ts';

let demo: DemoResult;
let text = '';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llm-prism-demo-'));
  demo = await runDemo({ durationMs: 20_000, dir, write: (t) => (text += t) });
}, 180_000);

describe('npm run demo (20 s workload)', () => {
  it('sends traffic through the real SDKs and stores every call it made', () => {
    const calls = demo.report.anatomy.reduce((n, a) => n + Number(a.calls), 0);
    expect(demo.load.sent).toBeGreaterThan(60);
    // Every request the load generator sent became at least one stored LLM call.
    expect(calls).toBeGreaterThanOrEqual(demo.load.sent);
    expect(new Set(demo.report.anatomy.map((a) => a.model))).toEqual(
      new Set(['gpt-4o', 'gpt-4o-mini', 'gpt-4.1-mini', 'gpt-4.1', 'claude-sonnet-5', 'gemini-2.5-flash']),
    );
    // gpt-4.1 is served only through the Vercel AI SDK (recognised on the wire): streamed, phased.
    const aiSdk = demo.report.anatomy.find((a) => a.model === 'gpt-4.1')!;
    expect(Number(aiSdk.streamed)).toBe(Number(aiSdk.calls));
    expect(aiSdk.ttft_p50).toBeGreaterThan(0);
  });

  it('shows the slow-prefill incident: that model has the highest prefill p95', () => {
    const [top, next] = [...demo.report.anatomy].filter((a) => a.prefill_p95 !== null).sort((a, b) => b.prefill_p95! - a.prefill_p95!);
    expect(top!.model).toBe(SLOW_PREFILL_MODEL);
    // The simulator injected 1.8–2.4 s of prefill during the incident, 120–320 ms otherwise.
    expect(top!.prefill_p95).toBeGreaterThan(1500);
    expect(next!.prefill_p95).toBeLessThan(1000);
  });

  it('classifies the provider eviction as evicted and the personalization as prefix_changed at system', () => {
    const misses = demo.report.misses.filter((m) => m.provider === 'anthropic');
    expect(misses).toContainEqual(expect.objectContaining({ reason: 'evicted', calls: 1 }));
    expect(misses).toContainEqual(expect.objectContaining({ reason: 'prefix_changed', break_at: 'system', calls: 1 }));
    expect(misses).toContainEqual(expect.objectContaining({ reason: 'cold' }));
    const anthropic = demo.report.cache.find((c) => c.provider === 'anthropic')!;
    expect(Number(anthropic.hit)).toBeGreaterThan(5);
  });

  it('shows the same prompt-cache figures on the dashboard as in the report, write-misses included', async () => {
    const storage = await openStorage({ dataDir: join(dir, 'data') });
    try {
      const figures = await expectCacheAgreement(storage.client, demo.report);
      const writes = demo.report.cache.reduce((n, c) => n + Number(c.write), 0);
      expect(writes).toBeGreaterThan(0);
      expect(Object.values(figures.misses).reduce((n, v) => n + v, 0)).toBeGreaterThanOrEqual(writes);
    } finally {
      await storage.close();
    }
  });

  it('counts mid-stream errors, truncations and aborts as their outcomes', () => {
    const outcomes = new Map<string, number>();
    for (const o of demo.report.outcomes) outcomes.set(o.outcome, (outcomes.get(o.outcome) ?? 0) + Number(o.calls));
    expect(outcomes.get('error')).toBeGreaterThan(0);
    expect(outcomes.get('truncated')).toBeGreaterThan(0);
    expect(outcomes.get('aborted')).toBeGreaterThan(0);
    expect(demo.report.outcomes.some((o) => o.outcome === 'truncated' && ['length', 'max_tokens', 'MAX_TOKENS', 'incomplete'].includes(o.finish_reason) || o.finish_reason === 'max_output_tokens')).toBe(true);
  });

  it('shows the 429 burst as retries on OpenAI', () => {
    const openai = demo.report.retries.find((r) => r.provider === 'openai')!;
    expect(Number(openai.rate_limited_attempts)).toBeGreaterThanOrEqual(2);
    expect(Number(openai.retries)).toBeGreaterThanOrEqual(Number(openai.rate_limited_attempts));
    // Request headroom fell to 5 % of the limit before the burst (workload.ts), and Gemini sends no headers.
    expect(openai.min_headroom).toBeCloseTo(0.05, 2);
    expect(demo.report.retries.find((r) => r.provider === 'gcp.gemini')!.min_headroom).toBeNull();
  });

  it('names what its incidents cost: the personalized system prompt in dollars, the 429 burst as unbilled attempts', async () => {
    const cost = demo.report.cost;
    expect(cost.total_usd).toBeGreaterThan(0);
    // The one prefix_changed-at-system miss paid its 2 500-ish written tokens at the 5-minute write
    // price instead of a cache read: claude-sonnet-5, $2.50 − $0.20 per million (docs/cost.md).
    const storage = await openStorage({ dataDir: join(dir, 'data') });
    let written: number;
    try {
      const rs = await storage.client.query({
        query: "SELECT CacheWriteTokens AS w FROM otel.llm_calls WHERE CacheMissReason = 'prefix_changed' AND CacheBreakAt = 'system'",
        format: 'JSONEachRow',
      });
      const rows = await rs.json<{ w: string }>();
      expect(rows).toHaveLength(1);
      written = Number(rows[0]!.w);
    } finally {
      await storage.close();
    }
    expect(written).toBeGreaterThan(1000);
    const savings = (written * (2.5 - 0.2)) / 1e6;
    expect(cost.prefix_fix_savings_usd).toBeCloseTo(savings, 12);
    expect(cost.miss_waste).toContainEqual(expect.objectContaining({ reason: 'prefix_changed', break_at: 'system', calls: 1 }));
    expect(text).toContain(`a stable system prompt (prefix_changed at system) would have saved ${usd(savings)}`);
    // The 429 burst: attempts that got no answer bill no tokens; the report says so with its count.
    const openai = demo.report.retries.find((r) => r.provider === 'openai')!;
    expect(cost.attempts.rate_limited_attempts).toBe(Number(openai.rate_limited_attempts));
    expect(cost.attempts.billed_usd).toBe(0);
    expect(text).toContain(`(${cost.attempts.rate_limited_attempts} answered 429) before an answer — $0.000000 billed`);
    // Errored and truncated calls are paid for and thrown away.
    expect(cost.waste.map((w) => w.cause)).toEqual(expect.arrayContaining(['error', 'truncated', 'cache_miss']));
    expect(cost.waste.find((w) => w.cause === 'truncated')!.waste_usd).toBeGreaterThan(0);
    // Every demo request asks something else: no duplicates, although many share a cached system prefix.
    expect(cost.waste.find((w) => w.cause === 'duplicate')).toBeUndefined();
    expect(cost.unpriced_calls).toBe(0);
  });

  it('reports both SLOs of the demo service with burn rates, and prints the terminal report', () => {
    const slos = demo.report.slos ?? expect.fail('the demo has an SLO config: slos must not be null');
    const kinds = slos.filter((s) => s.service === DEMO_SERVICE && s.model === undefined).map((s) => s.kind);
    expect(kinds.sort()).toEqual(['completion', 'ttft']);
    // Each SLI's rows are its objective's alert policy rows (the SLO overview's burn-rate bars).
    for (const s of slos) {
      expect(s.policy.map((r) => [r.severity, r.long, r.short, r.threshold])).toEqual(
        policyRows(alertPolicy(s.objective)).map(({ severity, row }) => [severity, row.long.label, row.short.label, row.burnRate]),
      );
      expect(s.firing).toEqual({ page: s.policy.some((r) => r.severity === 'page' && r.holds), ticket: s.policy.some((r) => r.severity === 'ticket' && r.holds) });
    }
    expect(text).toContain('TTFT anatomy by model');
    expect(text).toContain('evicted');
    expect(text).toContain(`HTML report: ${demo.htmlPath}`);
  });

  it('writes a self-contained HTML report with a container for every chart', async () => {
    const html = await readFile(demo.htmlPath, 'utf8');
    expect(html.length).toBeGreaterThan(100_000); // ECharts inlined
    const dom = new JSDOM(html).window.document;
    for (const id of CHART_IDS) expect(dom.getElementById(id), `chart ${id}`).not.toBeNull();
  });

  it('renders every chart of the HTML report in headless Chromium', async (ctx) => {
    const dom = await renderInChromium(ctx, demo.htmlPath);
    for (const id of CHART_IDS) {
      const svg = dom.querySelector(`#${id} svg`);
      expect(svg, `chart ${id}`).not.toBeNull();
      // Drawn series, not just an empty frame.
      expect(svg!.querySelectorAll('path').length, `paths in ${id}`).toBeGreaterThan(3);
    }
  });
});
