// Runs every panel query of every committed dashboard and every alert query of every committed
// rule file against real ClickHouse (chDB) seeded through otel_traces, with Grafana's macros
// expanded as the ClickHouse plugin does, and compares the results with values computed in TS
// from the seeded calls.
import { readdir, readFile, rm } from 'node:fs/promises';
import type { ClickHouseSettings } from '@clickhouse/client';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ALL,
  alertPolicy,
  conditionHolds,
  evaluateRule,
  ruleWindows,
  expandMacros,
  justAbove,
  loadSloConfig,
  policyRows,
  WINDOW_SECONDS,
  type AlertRuleFile,
  type ClickHouseQuery,
  type MacroContext,
  type ServiceSlo,
  type SloConfig,
  type SloKind,
  type Severity,
} from '@llm-prism/grafana';
import { collectReport } from '@llm-prism/report';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { expectCacheAgreement } from './cache-agreement.ts';
import { INCIDENT_END, INCIDENT_START, MODELS, prefillMs, SERVICE, seedCalls, seedRows, STAMPEDE, type SeedCall } from './grafana-seed.ts';
import { burnRate, groupBy, histogramPercentile, intervalStart, sloEvents } from './grafana-truth.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const HOUR = 3_600_000;
/** Dashboard time range for the non-SLO panels: the six hours up to the end of the incident. */
const RANGE = { from: INCIDENT_END - 6 * HOUR, to: INCIDENT_END, intervalMs: HOUR };
/**
 * The ranges the non-SLO panels are checked at: whole hours (read from the hourly rollups), partial
 * hours at both ends (their edges read from llm_calls), buckets of whole minutes shorter than an hour
 * (the series' whole minutes from the minute rollups, with partial minutes at both ends), buckets
 * that split a minute or an hour (every call from llm_calls).
 */
const PANEL_RANGES = [
  { name: 'whole hours', ...RANGE },
  { name: 'partial hours at the edges', from: RANGE.from - 25 * 60_000, to: RANGE.to - 35 * 60_000, intervalMs: HOUR },
  { name: '10-minute buckets', ...RANGE, intervalMs: 10 * 60_000 },
  { name: '2-minute buckets, partial minutes at the edges', from: RANGE.from - 25 * 60_000 - 17_000, to: RANGE.to - 35 * 60_000 - 43_000, intervalMs: 2 * 60_000 },
  { name: '90-second buckets', ...RANGE, intervalMs: 90_000 },
];
/** The range the panel checks below compare with (a test that changes it gets RANGE back after it). */
let panelRange: { from: number; to: number; intervalMs: number } = RANGE;
afterEach(() => {
  panelRange = RANGE;
});

interface Threshold {
  value: number | null;
  color: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: ClickHouseQuery[];
  fieldConfig?: { overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] };
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating?: { list: { name: string; query?: unknown }[] };
}
type Row = Record<string, unknown>;

let storage: Storage;
let dataDir: string;
let config: SloConfig;
const calls: SeedCall[] = seedCalls();
const dashboards = new Map<string, Dashboard>();
const ruleFiles: AlertRuleFile[] = [];

async function run(sql: string, ctx: MacroContext): Promise<Row[]> {
  const result = await storage.client.query({ query: expandMacros(sql, ctx), format: 'JSONEachRow' });
  return result.json<Row>();
}

const num = (v: unknown): number => Number(v);
const runRows = (sql: string, clickhouse_settings?: ClickHouseSettings) =>
  storage.client.query({ query: sql, format: 'JSONEachRow', ...(clickhouse_settings ? { clickhouse_settings } : {}) }).then((r) => r.json<Row>());
/** A field's threshold steps from the panel's overrides. */
function stepsOf(panel: Panel, field: string): Threshold[] {
  const override = panel.fieldConfig?.overrides.find((o) => o.matcher.id === 'byName' && o.matcher.options === field);
  const steps = (override?.properties.find((p) => p.id === 'thresholds')?.value as { steps: Threshold[] } | undefined)?.steps;
  if (steps === undefined) throw new Error(`${panel.title}: no thresholds for ${field}`);
  return steps;
}
/** Grafana's colour of a value: the last step at or below it (the first step, null, is the base). */
const colourOf = (steps: Threshold[], value: number) => steps.filter((s) => s.value === null || value >= s.value).at(-1)?.color;
const HOLDS_COLOUR: Record<Severity, string> = { page: 'red', ticket: 'orange' };
const close = (actual: unknown, expected: number | null, digits = 9) =>
  expected === null ? expect(actual).toBeNull() : expect(num(actual)).toBeCloseTo(expected, digits);
/** Calls the dashboard's time filter takes in (whole seconds, both ends included). */
const inRange = (c: SeedCall) => c.start >= Math.floor(panelRange.from / 1000) * 1000 && c.start <= Math.floor(panelRange.to / 1000) * 1000;
const hour = (c: SeedCall) => intervalStart(c.start, panelRange.intervalMs);
/** Count panels show rates: a count in one $__timeInterval bucket per second of the bucket. */
const perSecond = (count: number) => count / (panelRange.intervalMs / 1000);
/** A percentile the latency panels show: the values it is over and its level. */
interface Percentile {
  values: number[];
  level: number;
}
const pct = (values: number[], level: number): Percentile => ({ values, level });
/** A figure matches the truth: a number, or a percentile as the panels define it (grafana-truth.ts). */
function matches(actual: unknown, expected: number | null | Percentile, what: string): void {
  if (expected === null || typeof expected === 'number') return close(actual, expected);
  const want = histogramPercentile(expected.values, expected.level);
  expect(want, what).not.toBeNull();
  // Within 2.2 % of the exact order statistic, by construction of the buckets.
  const exact = [...expected.values].sort((a, b) => a - b)[Math.max(1, Math.ceil(expected.level * expected.values.length)) - 1] as number;
  expect(Math.abs((want as number) - exact), what).toBeLessThanOrEqual(exact * 0.022);
  close(actual, want);
}
/** The cache definitions of docs/slo.md: a write read nothing either, so it is a miss. */
const isHit = (c: SeedCall) => c.cacheState === 'hit' || c.cacheState === 'partial';
const isMiss = (c: SeedCall) => c.cacheState === 'miss' || c.cacheState === 'write';
const allVars = { service: ALL, model: ALL, trace_id: '' };

beforeAll(async () => {
  config = await loadSloConfig(join(ROOT, 'packages/demo/llm-prism.slo.yaml'));
  for (const file of await readdir(join(ROOT, 'grafana/dashboards'))) {
    const d = JSON.parse(await readFile(join(ROOT, 'grafana/dashboards', file), 'utf8')) as Dashboard;
    dashboards.set(d.uid, d);
  }
  const alertDir = join(ROOT, 'grafana/provisioning/alerting');
  for (const file of (await readdir(alertDir)).filter((f) => f.startsWith('slo-'))) ruleFiles.push(parse(await readFile(join(alertDir, file), 'utf8')) as AlertRuleFile);
  dataDir = await tempDataDir('llm-prism-grafana-');
  storage = await openStorage({ dataDir });
  const { rows, redelivered } = seedRows(calls);
  for (let i = 0; i < rows.length; i += 20_000) await storage.insertSpans(rows.slice(i, i + 20_000));
  await storage.insertSpans(redelivered);
});

afterAll(async () => {
  await storage?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe('seeded truth', () => {
  it('stores each call once in llm_calls although some spans were delivered twice', async () => {
    const [row] = await run('SELECT count() AS n FROM otel.llm_calls', RANGE);
    expect(num(row?.n)).toBe(calls.length);
  });

  it('has a quiet baseline and an incident that breaches the default SLO', () => {
    const slo = config.slos.find((s) => s.model === undefined) as ServiceSlo;
    expect(burnRate(calls, slo, 'ttft', INCIDENT_START, 259_200)).toBeLessThan(1);
    expect(burnRate(calls, slo, 'ttft', INCIDENT_END, 3_600)).toBeGreaterThan(alertPolicy(slo.ttft.objective).page[0].burnRate);
    expect(burnRate(calls, slo, 'completion', INCIDENT_END, 300)).toBeGreaterThan(alertPolicy(slo.completion.objective).page[0].burnRate);
  });

  it('has aborts users feel, so the SLO checks below cover them (docs/slo.md, What counts)', () => {
    const aborted = calls.filter((c) => c.outcome === 'aborted');
    const [ttftSlo, miniSlo] = config.slos as [ServiceSlo, ServiceSlo];
    // Gave up waiting for a first token: past the TTFT threshold, and past only the stricter one.
    expect(aborted.filter((c) => c.streamed && c.ttftMs === null && c.durationMs > ttftSlo.ttft.thresholdMs).length).toBeGreaterThan(10);
    expect(aborted.filter((c) => c.ttftMs === null && c.model === miniSlo.model && c.durationMs > miniSlo.ttft.thresholdMs && c.durationMs <= ttftSlo.ttft.thresholdMs).length).toBeGreaterThan(0);
    // Broke off a slow stream (past the completion threshold) or a fast one (no event).
    expect(aborted.filter((c) => c.ttftMs !== null && c.durationMs > ttftSlo.completion.thresholdMs).length).toBeGreaterThan(0);
    expect(aborted.filter((c) => c.durationMs <= miniSlo.completion.thresholdMs).length).toBeGreaterThan(0);
    const withoutAborts = calls.filter((c) => c.outcome !== 'aborted');
    expect(burnRate(calls, ttftSlo, 'ttft', INCIDENT_END, 3_600)).toBeGreaterThan(burnRate(withoutAborts, ttftSlo, 'ttft', INCIDENT_END, 3_600));
  });
});

describe('SLO overview dashboard', () => {
  const ends = { baseline: INCIDENT_START, incident: INCIDENT_END };

  function sloOf(title: string): { slo: ServiceSlo; kind: SloKind } {
    const kind: SloKind = title.startsWith('TTFT') ? 'ttft' : 'completion';
    // Titles name service · model; the longest matching description wins.
    const matches = config.slos.filter((s) => title.includes([s.service, s.model].filter(Boolean).join(' · ') + ' —'));
    const slo = matches.sort((a, b) => (b.model?.length ?? 0) - (a.model?.length ?? 0))[0];
    if (slo === undefined) throw new Error(`no SLO for panel ${title}`);
    return { slo, kind };
  }

  for (const [when, end] of Object.entries(ends)) {
    it(`shows SLIs, budgets, burn rates and burn-down matching the truth (${when})`, async () => {
      const d = dashboards.get('llm-prism-slo') as Dashboard;
      const window = WINDOW_SECONDS[config.window];
      const ctx = { from: end - window * 1000, to: end, intervalMs: HOUR };
      let checked = 0;
      let holding = 0;
      for (const panel of d.panels) {
        if (panel.type === 'alertlist') continue;
        const targets = panel.targets ?? [];
        expect(targets.length, panel.title).toBeGreaterThan(0);
        if (panel.title.includes('burn-down')) {
          for (const target of targets) {
            const kind: SloKind = target.refId === 'A' ? 'ttft' : 'completion';
            const slo = config.slos.find((s) => panel.title.startsWith([s.service, s.model].filter(Boolean).join(' · ') + ' —'));
            if (slo === undefined) throw new Error(`no SLO for ${panel.title}`);
            const rows = await run(target.rawSql, ctx);
            const values = rows.map((r) => num(r.budget_remaining));
            const { good, total } = sloEvents(calls, slo, kind, end, window);
            close(values.at(-1), 1 - (total - good) / total / (1 - slo[kind].objective));
            for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThanOrEqual((values[i - 1] as number) + 1e-12);
            // One point per hour with traffic: 4 days minus the hours before the baseline starts.
            expect(rows.length).toBe(new Set(calls.filter((c) => c.start < end).map((c) => intervalStart(c.start, HOUR))).size);
            checked++;
          }
          continue;
        }
        const { slo, kind } = sloOf(panel.title);
        const [row] = await run((targets[0] as ClickHouseQuery).rawSql, ctx);
        const { good, total } = sloEvents(calls, slo, kind, end, window);
        if (panel.title.endsWith(`SLI (${config.window})`)) close(row?.sli, good / total);
        else if (panel.title.endsWith('error budget remaining')) close(row?.budget_remaining, 1 - (total - good) / total / (1 - slo[kind].objective));
        else if (panel.title.endsWith('burn rate')) {
          // One bar per row of the objective's alert policy: the lower of its windows' burn rates,
          // in the row's colour exactly when the row holds, and so when the rule's condition does.
          const held = new Set<Severity>();
          const rows = policyRows(alertPolicy(slo[kind].objective));
          expect(Object.keys(row ?? {}).sort()).toEqual(rows.map((r) => r.column).sort());
          for (const { severity, row: policyRow, column } of rows) {
            const long = burnRate(calls, slo, kind, end, policyRow.long.seconds);
            const short = burnRate(calls, slo, kind, end, policyRow.short.seconds);
            close(row?.[column], Math.min(long, short));
            const steps = stepsOf(panel, column);
            expect(steps.at(-1), `${panel.title} ${column}`).toEqual({ value: justAbove(policyRow.burnRate), color: HOLDS_COLOUR[severity] });
            const colour = colourOf(steps, num(row?.[column]));
            expect(colour === HOLDS_COLOUR[severity], `${panel.title} ${column}`).toBe(long > policyRow.burnRate && short > policyRow.burnRate);
            if (colour === HOLDS_COLOUR[severity]) held.add(severity);
          }
          for (const severity of ['page', 'ticket'] as const) {
            const uid = `${slo.id}-${kind === 'ttft' ? 'ttft' : 'done'}-${severity}`;
            const rule = ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules)).find((r) => r.uid === uid);
            if (rule === undefined) throw new Error(`no rule ${uid}`);
            expect(held.has(severity), `${panel.title}: ${severity} colour vs rule ${uid}`).toBe((await evaluateRule(rule, end, runRows)).condition !== 0);
          }
          holding += held.size;
        } else throw new Error(`unchecked panel ${panel.title}`);
        checked++;
      }
      expect(checked).toBe(config.slos.length * 8);
      // The incident turns a page red; the baseline shows none.
      if (when === 'incident') expect(holding).toBeGreaterThan(0);
      else expect(holding).toBe(0);
    });
  }
});

describe('alert rules', () => {

  async function evaluate(end: number) {
    const results = new Map<string, { fired: boolean; values: Record<string, number> }>();
    for (const file of ruleFiles) {
      for (const group of file.groups) {
        for (const rule of group.rules) {
          const { values, condition } = await evaluateRule(rule, end, runRows);
          results.set(rule.uid, { fired: condition === 1, values });
        }
      }
    }
    return results;
  }

  /** The objective's policy applied to burn rates computed in TS from the seeded calls. */
  function expected(end: number) {
    const out = new Map<string, { fired: boolean; values: Record<string, number> }>();
    for (const slo of config.slos) {
      for (const kind of ['ttft', 'completion'] as const) {
        const policy = alertPolicy(slo[kind].objective);
        for (const severity of ['page', 'ticket'] as const) {
          const windows = ruleWindows(policy, severity);
          const values = Object.fromEntries(windows.map(([ref, w]) => [ref, burnRate(calls, slo, kind, end, w.seconds)]));
          const burn = Object.fromEntries(windows.map(([ref, w]) => [w.label, values[ref] as number]));
          out.set(`${slo.id}-${kind === 'ttft' ? 'ttft' : 'done'}-${severity}`, { fired: conditionHolds(policy, severity, burn), values });
        }
      }
    }
    return out;
  }

  it('returns every burn rate of the truth and fires the page alerts on the incident', async () => {
    const actual = await evaluate(INCIDENT_END);
    const truth = expected(INCIDENT_END);
    expect([...actual.keys()].sort()).toEqual([...truth.keys()].sort());
    for (const [uid, t] of truth) {
      const a = actual.get(uid);
      for (const ref of ['A', 'B', 'C', 'D']) close(a?.values[ref], t.values[ref] as number);
      expect(a?.fired, uid).toBe(t.fired);
    }
    expect(actual.get('demo-chat-ttft-page')?.fired).toBe(true);
    // 20 % mid-stream errors at two calls a minute: the completion page's 2-minute short window
    // holds 0–4 calls, so it holds at some of the incident's minutes, not necessarily the last.
    const done = await Promise.all([1, 2, 3, 4, 5, 6].map(async (k) => (await evaluate(INCIDENT_END - k * 60_000)).get('demo-chat-done-page')?.fired));
    expect(done).toContain(true);
  });

  it('stays quiet on the baseline', async () => {
    const actual = await evaluate(INCIDENT_START);
    const truth = expected(INCIDENT_START);
    for (const [uid, t] of truth) {
      for (const ref of ['A', 'B', 'C', 'D']) close(actual.get(uid)?.values[ref], t.values[ref] as number);
      expect(actual.get(uid)?.fired, uid).toBe(false);
    }
  });

  it('windows cover complete minutes whatever second Grafana evaluates at', async () => {
    // 40 s into the minute after the incident: the same windows as at the minute's start.
    const late = await evaluate(INCIDENT_END + 40_000);
    const truth = expected(INCIDENT_END);
    for (const [uid, t] of truth) for (const ref of ['A', 'B', 'C', 'D']) close(late.get(uid)?.values[ref], t.values[ref] as number);
  });
});

/** Checks of the non-SLO panels, by dashboard uid and panel title: rows → truth. */
const PANEL_CHECKS: Record<string, (rows: Row[], scope: SeedCall[]) => void> = {
  'Client setup / queue / prefill / decode by model — p50': (rows, scope) => checkPhases(rows, scope, 0.5),
  'Client setup / queue / prefill / decode by model — p95': (rows, scope) => checkPhases(rows, scope, 0.95),
  'Time to first token — distribution': (rows, scope) => {
    const truth = groupBy(
      scope.filter((c) => c.streamed && c.ttftMs !== null),
      hour,
      (cs) => cs.map((c) => c.ttftMs as number),
    );
    expect(rows).toHaveLength(truth.size);
    for (const r of rows) {
      const v = truth.get(String(r.time)) as number[];
      for (const level of [0.5, 0.9, 0.99]) matches(r[`p${level * 100}`], pct(v, level), `TTFT p${level * 100} ${String(r.time)}`);
    }
  },
  'Inter-chunk gap p95 by model': (rows, scope) =>
    checkSeries(rows, scope.filter((c) => c.chunks > 1), 'RequestModel', (c) => c.model, { gap_p95_ms: (cs) => pct(cs.map((c) => c.gapP95Ms), 0.95) }),
  'Decode tokens per second by model — median': (rows, scope) =>
    checkSeries(rows, scope, 'RequestModel', (c) => c.model, { tokens_per_s: (cs) => pct(cs.map((c) => c.tokensPerSec), 0.5) }),
  'Tool-call streaming time': (rows, scope) =>
    checkSeries(rows, scope.filter((c) => c.toolCallMs > 0), null, null, {
      p50: (cs) => pct(cs.map((c) => c.toolCallMs), 0.5),
      p95: (cs) => pct(cs.map((c) => c.toolCallMs), 0.95),
    }),
  'Cache hit ratio and cached-token share': (rows, scope) =>
    checkSeries(rows, scope, null, null, {
      hit_ratio: (cs) => cs.filter(isHit).length / cs.filter((c) => isHit(c) || isMiss(c)).length,
      cached_token_share: (cs) => sum(cs, (c) => c.cacheReadTokens) / sum(cs, (c) => c.inputTokens),
    }),
  'Cache misses by reason': (rows, scope) =>
    checkSeries(rows, scope.filter(isMiss), 'CacheMissReason', (c) => c.missReason, { misses: (cs) => perSecond(cs.length) }),
  'Where prefixes break': (rows, scope) => {
    const changed = scope.filter((c) => isMiss(c) && c.missReason === 'prefix_changed');
    const truth = groupBy(changed, (c) => c.breakAt, (cs) => cs.length / changed.length);
    expect(rows).toHaveLength(3);
    for (const r of rows) close(r.share, truth.get(String(r.break_at)) as number);
    expect(truth.size).toBe(3);
  },
  'Evictions by provider': (rows, scope) =>
    checkSeries(rows, scope.filter((c) => isMiss(c) && c.missReason === 'evicted'), 'Provider', (c) => c.provider, { evictions: (cs) => perSecond(cs.length) }),
  'Cache stampedes — one prefix written by several calls within 10 s': (rows, scope) => {
    const writes = scope.filter((c) => c.prefixHash !== '' && c.cacheWriteTokens > 0 && c.cacheReadTokens === 0);
    const truth = [...groupBy(writes, (c) => `${c.prefixHash} ${intervalStart(c.start, 10_000)}`, (cs) => cs)].filter(([, cs]) => cs.length > 1);
    expect(rows).toHaveLength(truth.length);
    for (const [key, cs] of truth) {
      const row = rows.find((r) => `${r.prefix_hash} ${r.window_start}` === key);
      expect(num(row?.writes)).toBe(cs.length);
      expect(num(row?.instances)).toBe(new Set(cs.map((c) => c.instance)).size);
      expect(num(row?.tokens_written)).toBe(sum(cs, (c) => c.cacheWriteTokens));
    }
    // The seeded stampede is found, written from several instances (it lies in the main range).
    const seeded = scope.filter((c) => c.prefixHash === STAMPEDE.prefixHash);
    if (panelRange.from === RANGE.from) expect(seeded.length).toBeGreaterThan(0);
    if (seeded.length === 0) return;
    const stampede = rows.find((r) => r.prefix_hash === STAMPEDE.prefixHash);
    expect(num(stampede?.writes)).toBe(seeded.length);
    expect(num(stampede?.instances)).toBeGreaterThan(1);
  },
  'Finish reasons': (rows, scope) => checkSeries(rows, scope, 'FinishReason', (c) => c.finishReason, { calls: (cs) => perSecond(cs.length) }),
  'Truncations, refusals, filtered and errored calls': (rows, scope) =>
    checkSeries(rows, scope.filter((c) => ['truncated', 'refused', 'filtered', 'error'].includes(c.outcome)), 'Outcome', (c) => c.outcome, {
      calls: (cs) => perSecond(cs.length),
    }),
  'Mid-stream errors': (rows, scope) =>
    checkSeries(rows, scope, null, null, {
      mid_stream_errors: (cs) => perSecond(cs.filter((c) => c.outcome === 'error' && c.chunks > 0).length),
      failed_before_output: (cs) => perSecond(cs.filter((c) => c.outcome === 'error' && c.chunks === 0).length),
    }),
  'Retries and 429s': (rows, scope) =>
    checkSeries(rows, scope, null, null, {
      retries: (cs) => perSecond(sum(cs, (c) => c.retries)),
      http_429: (cs) => perSecond(sum(cs, (c) => c.rateLimited)),
      calls_retried: (cs) => perSecond(cs.filter((c) => c.retries > 0).length),
    }),
  'Rate-limit headroom by provider': (rows, scope) =>
    checkSeries(rows, scope, 'Provider', (c) => c.provider, { headroom: (cs) => Math.min(...cs.map((c) => c.headroom)) }),
  'Errors by type': (rows, scope) => {
    const truth = groupBy(scope.filter((c) => c.errorType !== ''), (c) => `${c.provider}|${c.errorType}|${c.outcome}`, (cs) => [cs.length, sum(cs, (c) => c.retries)]);
    expect(Object.fromEntries(rows.map((r) => [`${r.Provider}|${r.ErrorType}|${r.Outcome}`, [num(r.calls), num(r.retries)]]))).toEqual(Object.fromEntries(truth));
  },
  'Slowest calls': (rows, scope) => {
    const top = scope.map((c) => Math.round(c.durationMs)).sort((a, b) => b - a).slice(0, 100);
    expect(rows.map((r) => num(r.duration_ms))).toEqual(top);
    const slowest = scope.find((c) => c.traceId === rows[0]?.TraceId);
    expect(Math.round(slowest?.durationMs ?? -1)).toBe(top[0]);
    for (const r of rows) {
      const c = scope.find((x) => x.traceId === r.TraceId) as SeedCall;
      expect(r.client_setup_ms === null ? null : num(r.client_setup_ms)).toBe(c.clientSetupMs === null ? null : Math.round(c.clientSetupMs));
    }
  },
};

function sum(cs: readonly SeedCall[], f: (c: SeedCall) => number): number {
  return cs.reduce((acc, c) => acc + f(c), 0);
}

/** Compares a long-format time series (time[, label], values…) with the truth per hour and label. */
function checkSeries(
  rows: Row[],
  scope: SeedCall[],
  labelColumn: string | null,
  label: ((c: SeedCall) => string) | null,
  values: Record<string, (cs: SeedCall[]) => number | null | Percentile>,
): void {
  const key = (c: SeedCall) => `${hour(c)}|${label === null ? '' : label(c)}`;
  const truth = groupBy(scope, key, (cs) => cs);
  expect(rows.length).toBe(truth.size);
  expect(truth.size).toBeGreaterThan(0);
  for (const r of rows) {
    const cs = truth.get(`${String(r.time)}|${labelColumn === null ? '' : String(r[labelColumn])}`);
    expect(cs, JSON.stringify(r)).toBeDefined();
    for (const [column, f] of Object.entries(values)) matches(r[column], f(cs as SeedCall[]), `${column} ${JSON.stringify(r)}`);
  }
}

function checkPhases(rows: Row[], scope: SeedCall[], level: number): void {
  const streamed = scope.filter((c) => c.streamed && c.outcome !== 'aborted');
  expect(rows.map((r) => r.model)).toEqual([...new Set(streamed.map((c) => c.model))].sort());
  for (const r of rows) {
    const cs = streamed.filter((c) => c.model === r.model);
    const setups = cs.filter((c) => c.clientSetupMs !== null).map((c) => c.clientSetupMs as number);
    // Some calls recorded no set-up: the quantile skips them.
    expect(setups.length).toBeGreaterThan(0);
    expect(setups.length).toBeLessThan(cs.length);
    matches(r.client_setup_ms, pct(setups, level), 'client setup');
    matches(r.queue_ms, pct(cs.map((c) => c.queueMs), level), 'queue');
    matches(r.prefill_ms, pct(cs.filter((c) => c.ttftMs !== null).map(prefillMs), level), 'prefill');
    matches(r.decode_ms, pct(cs.filter((c) => c.decodeMs !== null).map((c) => c.decodeMs as number), level), 'decode');
  }
}

describe('latency, cache, failure and drill-down dashboards', () => {
  const uids = ['llm-prism-latency', 'llm-prism-cache', 'llm-prism-failures', 'llm-prism-calls'];

  it.each(PANEL_RANGES)('runs every panel query and matches the truth, for all models and for one model ($name)', async (range) => {
    panelRange = range;
    let checked = 0;
    for (const vars of [allVars, { ...allVars, model: ['gpt-4o'] }]) {
      const scope = calls.filter((c) => inRange(c) && (vars.model === ALL || vars.model.includes(c.model)));
      for (const uid of uids) {
        const d = dashboards.get(uid) as Dashboard;
        for (const panel of d.panels) {
          if (panel.type === 'traces') continue;
          const check = PANEL_CHECKS[panel.title];
          if (check === undefined) throw new Error(`no truth check for panel "${panel.title}" of ${uid}`);
          for (const target of panel.targets ?? []) check(await run(target.rawSql, { ...range, vars }), scope);
          checked++;
        }
      }
    }
    expect(checked).toBe(2 * Object.keys(PANEL_CHECKS).length);
  });

  it('skips only calls that cannot be among the slowest (the bound from hourly rollups)', async () => {
    const panel = (dashboards.get('llm-prism-calls') as Dashboard).panels.find((p) => p.title === 'Slowest calls') as Panel;
    const bound = /DurationMs >= \((SELECT arrayElement\(arrayReverseSort\(groupArray\(MaxDurationMs\)\), )100(\) FROM [^\n]*)\)\n/.exec(panel.targets?.[0]?.rawSql ?? '');
    expect(bound).not.toBeNull();
    panelRange = RANGE;
    const durations = calls.filter(inRange).map((c) => c.durationMs).sort((a, b) => b - a);
    for (const n of [1, 2, 5, 10_000]) {
      const [row] = await run(`SELECT (${bound?.[1]}${n}${bound?.[2]}) AS bound`, { ...RANGE, vars: allVars });
      // Above zero (it skips calls) unless there are fewer hours than n, and never above the n-th
      // slowest call (it skips none of them).
      if (n === 10_000) expect(num(row?.bound)).toBe(0);
      else expect(num(row?.bound)).toBeGreaterThan(0);
      expect(num(row?.bound)).toBeLessThanOrEqual(durations[Math.min(n, durations.length) - 1] as number);
    }
    // The panel asking for the 5 slowest (so the bound skips calls) still finds them, with whole
    // hours only and with partial hours at the ends.
    const top5 = (panel.targets?.[0]?.rawSql ?? '').replaceAll('groupArray(MaxDurationMs)), 100)', 'groupArray(MaxDurationMs)), 5)').replace('LIMIT 100', 'LIMIT 5');
    expect(top5).not.toContain('100');
    for (const range of PANEL_RANGES.slice(0, 2)) {
      panelRange = range;
      const truth = calls.filter(inRange).map((c) => Math.round(c.durationMs)).sort((a, b) => b - a).slice(0, 5);
      expect((await run(top5, { ...range, vars: allVars })).map((r) => num(r.duration_ms))).toEqual(truth);
    }
  });

  it("runs every panel query with a quote or a backslash in the selected service, model and trace id (Grafana's queryparam format)", async () => {
    const vars = { service: ["demo'chat", 'demo\\'], model: ["gpt-4o', 'gpt-4o-mini", 'm\\nodel'], trace_id: "ab'cd\\" };
    let ran = 0;
    for (const d of dashboards.values()) {
      if (d.uid === 'llm-prism-slo') continue;
      for (const panel of d.panels) {
        for (const target of panel.targets ?? []) {
          const rows = await run(target.rawSql, { ...RANGE, vars }).catch((e: unknown) => {
            throw new Error(`${d.uid}: ${panel.title}: ${String(e)}`);
          });
          // The quoted names match no call: nothing counted (an aggregate's single row counts none).
          for (const row of rows) for (const key of ['calls', 'cost_usd', 'usd_per_hour']) if (key in row) expect(num(row[key]) || 0, `${d.uid}: ${panel.title}`).toBe(0);
          ran++;
        }
      }
    }
    expect(ran).toBe(8 + 6 + 6 + 5 + 2);
  });

  it('lists services and models in the template variables', async () => {
    for (const uid of uids) {
      for (const v of (dashboards.get(uid) as Dashboard).templating?.list ?? []) {
        if (typeof v.query !== 'string' || v.query === '') continue;
        const rows = await run(v.query, RANGE);
        const values = rows.map((r) => Object.values(r)[0]);
        expect(values).toEqual(v.name === 'service' ? ['demo-chat'] : [...MODELS].sort());
      }
    }
  });

  it('opens a call as a trace in the plugin trace format, each span once although its spans were stored twice', async () => {
    // A re-sent batch: storage keeps the call span once (insert-dedup.ts) but its other spans twice.
    const call = calls.find((c, i) => i % 97 === 0 && c.start >= INCIDENT_START && c.ttftMs !== null) as SeedCall;
    await storage.client.command({
      query: `INSERT INTO otel.otel_traces SELECT * FROM otel.otel_traces WHERE TraceId = '${call.traceId}' AND SpanId != '${call.spanId}'`,
    });
    const [stored] = await run(`SELECT count() AS n, uniqExact(SpanId) AS spans FROM otel.otel_traces WHERE TraceId = '${call.traceId}'`, RANGE);
    expect(num(stored?.n)).toBe(2 * num(stored?.spans) - 1);
    const panel = (dashboards.get('llm-prism-calls') as Dashboard).panels.find((p) => p.type === 'traces') as Panel;
    const [target] = panel.targets ?? [];
    expect(target?.format).toBe(3);
    expect(target?.queryType).toBe('traces');
    const rows = await run((target as ClickHouseQuery).rawSql, { ...RANGE, vars: { ...allVars, trace_id: call.traceId } });
    // Each span once: the names are the call's five spans, none repeated.
    expect(rows.map((r) => r.operationName).sort()).toEqual([`chat ${call.model}`, 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft'].sort());
    const byName = new Map(rows.map((r) => [r.operationName, r]));
    const root = byName.get(`chat ${call.model}`) as Row;
    expect(root.parentSpanID).toBe('');
    expect(byName.get('llm.ttft')?.parentSpanID).toBe(call.spanId);
    expect(byName.get('llm.queue')?.parentSpanID).toBe(byName.get('llm.ttft')?.spanID);
    expect(byName.get('llm.client_setup')?.parentSpanID).toBe(byName.get('llm.ttft')?.spanID);
    close(byName.get('llm.client_setup')?.duration, call.clientSetupMs ?? 0, 6);
    close(root.duration, call.durationMs, 6);
    close(byName.get('llm.ttft')?.duration, call.ttftMs as number, 6);
    expect(Date.parse(`${String(root.startTime).replace(' ', 'T')}Z`)).toBe(call.start);
    expect(root.statusCode).toBe(call.outcome === 'error' ? 2 : 0);
    const queue = byName.get('llm.queue') as Row;
    expect(queue.logs).toEqual([
      { timestamp: call.start + (call.clientSetupMs ?? 0) + call.queueMs, name: 'llm.http.attempt', fields: [{ key: 'llm.attempt', value: '1' }, { key: 'http.response.status_code', value: '200' }] },
    ]);
    const none = await run((target as ClickHouseQuery).rawSql, { ...RANGE, vars: { ...allVars, trace_id: 'no-such-trace' } });
    expect(none).toEqual([]);
  });
});

describe('dashboards and report agree (one definition of every metric)', () => {
  it('shows the same hit ratio and misses by reason, write-misses included', async () => {
    const report = await collectReport({ client: storage.client, database: 'otel', from: RANGE.from, to: RANGE.to, service: SERVICE });
    const figures = await expectCacheAgreement(storage.client, report);
    const scope = calls.filter(inRange);
    // Against the seed: a write read nothing, so it is a miss with its reason.
    const misses = scope.filter((c) => c.cacheState === 'miss' || c.cacheState === 'write');
    expect(Object.values(figures.misses).reduce((a, b) => a + b, 0)).toBe(misses.length);
    expect(scope.filter((c) => c.cacheState === 'write').length).toBeGreaterThan(0);
    expect(figures.hitRatio).toBeCloseTo(scope.filter((c) => c.cacheState === 'hit' || c.cacheState === 'partial').length / (scope.length - scope.filter((c) => c.cacheState === 'none').length), 12);
  });

  it('counts the same failed outcomes', async () => {
    const report = await collectReport({ client: storage.client, database: 'otel', from: RANGE.from, to: RANGE.to, service: SERVICE });
    const panel = (dashboards.get('llm-prism-failures') as Dashboard).panels.find((p) => p.title === 'Truncations, refusals, filtered and errored calls') as Panel;
    const rows = await run((panel.targets?.[0] as ClickHouseQuery).rawSql, { ...RANGE, vars: allVars });
    const shown: Record<string, number> = {};
    for (const r of rows) shown[String(r.Outcome)] = (shown[String(r.Outcome)] ?? 0) + Math.round(num(r.calls) * (RANGE.intervalMs / 1000));
    const reported: Record<string, number> = {};
    for (const o of report.outcomes) {
      if (['error', 'truncated', 'refused', 'filtered'].includes(o.outcome)) reported[o.outcome] = (reported[o.outcome] ?? 0) + num(o.calls);
    }
    expect(shown).toEqual(reported);
    expect(Object.keys(shown).sort()).toEqual(['error', 'truncated']);
  });

  // At the incident the report's `to` is 30 s into the minute, as Grafana's "now" almost always is:
  // its SLI and budget are the dashboard's at that `to`; its policy rows, the dashboard's bars and the
  // rules all cover complete minutes, so at that `to` they agree too.
  for (const [when, end, to] of [['baseline', INCIDENT_START, INCIDENT_START], ['incident', INCIDENT_END, INCIDENT_END + 30_000]] as const) {
    it(`gives the SLO overview’s SLIs, budgets and burn-rate rows in the report (${when})`, async () => {
      const window = WINDOW_SECONDS[config.window];
      const report = await collectReport({ client: storage.client, database: 'otel', config, from: end - HOUR, to, service: SERVICE });
      const d = dashboards.get('llm-prism-slo') as Dashboard;
      const ctx = { from: end - window * 1000, to: end, intervalMs: HOUR };
      const rules = ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules));
      let checked = 0;
      let holding = 0;
      for (const status of report.slos ?? []) {
        const name = `${status.kind === 'ttft' ? 'TTFT' : 'Completion'} · ${[status.service, status.model].filter(Boolean).join(' · ')} — `;
        const panel = (suffix: string) => d.panels.find((p) => p.title === `${name}${suffix}`) as Panel;
        close((await run((panel(`SLI (${config.window})`).targets?.[0] as ClickHouseQuery).rawSql, { ...ctx, to }))[0]?.sli, status.sli as number);
        close((await run((panel('error budget remaining').targets?.[0] as ClickHouseQuery).rawSql, { ...ctx, to }))[0]?.budget_remaining, status.budgetRemaining);
        // The burn-rate bars: the same rows, the same values, the row's colour exactly where the report says it holds.
        const burn = panel('burn rate');
        const [bars] = await run((burn.targets?.[0] as ClickHouseQuery).rawSql, { ...ctx, to });
        const rows = policyRows(alertPolicy(status.objective));
        expect(status.policy.map((r) => [r.severity, r.long, r.short, r.threshold])).toEqual(rows.map(({ severity, row }) => [severity, row.long.label, row.short.label, row.burnRate]));
        rows.forEach(({ severity, column }, i) => {
          const mine = status.policy[i]!;
          expect(mine.burnRate, `${name}${column}`).toBe(num(bars?.[column]));
          expect(colourOf(stepsOf(burn, column), mine.burnRate) === HOLDS_COLOUR[severity], `${name}${column}`).toBe(mine.holds);
          if (mine.holds) holding++;
        });
        // And firing as the generated rules decide it at that minute.
        for (const severity of ['page', 'ticket'] as const) {
          const rule = rules.find((r) => r.uid === `${status.id}-${status.kind === 'ttft' ? 'ttft' : 'done'}-${severity}`);
          if (rule === undefined) throw new Error(`no rule for ${status.id} ${status.kind} ${severity}`);
          expect(status.firing[severity], `${name}${severity}`).toBe((await evaluateRule(rule, to, runRows)).condition !== 0);
        }
        checked++;
      }
      expect(checked).toBe(config.slos.length * 2);
      if (when === 'incident') expect(report.slos?.some((s) => s.firing.page)).toBe(true);
      else expect(holding).toBe(0);
    });
  }
});

describe('on the old query analyzer (a user profile with enable_analyzer = 0)', () => {
  // Grafana's data source sends no analyzer setting (docs/clickhouse.md): every panel, variable and
  // rule query must answer on a server whose profile turns the new analyzer off as it does on it.
  const runOld = (sql: string) => runRows(sql, { allow_experimental_analyzer: 0 });
  /** The same answer: equal, floats to 1e-9 relative (a parallel aggregation sums in any order). */
  function sameAnswer(actual: unknown, expected: unknown, what: string): void {
    if (typeof actual === 'number' && typeof expected === 'number') {
      expect(Math.abs(actual - expected), what).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
    } else if (Array.isArray(expected)) {
      expect(Array.isArray(actual) && actual.length, what).toBe(expected.length);
      expected.forEach((e, i) => sameAnswer((actual as unknown[])[i], e, `${what}[${i}]`));
    } else if (expected !== null && typeof expected === 'object') {
      expect(Object.keys(actual as object), what).toEqual(Object.keys(expected));
      for (const [k, e] of Object.entries(expected)) sameAnswer((actual as Row)[k], e, `${what}.${k}`);
    } else {
      expect(actual, what).toBe(expected);
    }
  }

  it('gives every panel, template variable and alert rule query the answer it gives on the new analyzer', async () => {
    expect((await runOld("SELECT getSetting('enable_analyzer') AS on"))[0]?.on).toBe(false);
    const traceId = (calls.find((c) => c.ttftMs !== null) as SeedCall).traceId;
    const sloContext = { from: INCIDENT_END - WINDOW_SECONDS[config.window] * 1000, to: INCIDENT_END, intervalMs: HOUR };
    // Whole hours for all models; partial minutes at both ends for one model (rollups and llm_calls).
    const panelContexts = [
      { ...RANGE, vars: { ...allVars, trace_id: traceId } },
      { ...(PANEL_RANGES[3] as (typeof PANEL_RANGES)[number]), vars: { ...allVars, model: ['gpt-4o'], trace_id: traceId } },
    ];
    let compared = 0;
    let rowsSeen = 0;
    for (const d of dashboards.values()) {
      const queries = [
        ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => [`${p.title} ${t.refId}`, t.rawSql] as const)),
        ...(d.templating?.list ?? []).flatMap((v) => (typeof v.query === 'string' && v.query !== '' ? [[`$${v.name}`, v.query] as const] : [])),
      ];
      for (const ctx of d.uid === 'llm-prism-slo' ? [sloContext] : panelContexts) {
        for (const [what, sql] of queries) {
          const query = expandMacros(sql, ctx);
          const answer = await runRows(query);
          sameAnswer(await runOld(query).catch((e: unknown) => { throw new Error(`${d.uid}: ${what}, old analyzer: ${String(e)}`); }), answer, `${d.uid}: ${what}`);
          rowsSeen += answer.length;
          compared++;
        }
      }
    }
    for (const rule of ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules))) {
      for (const at of [INCIDENT_START, INCIDENT_END]) {
        const answer = await evaluateRule(rule, at, runRows);
        sameAnswer(await evaluateRule(rule, at, runOld), answer, `rule ${rule.uid}`);
        compared++;
      }
    }
    console.log(`old analyzer: ${compared} answers compared, ${rowsSeen} panel and variable rows`);
    // Every dashboard's queries at each of its contexts, and every rule at two times.
    expect(compared).toBe(16 + 2 * (8 + 6 + 6 + 5 + 2 + 2 * 5) + 2 * config.slos.length * 2 * 2);
    expect(rowsSeen).toBeGreaterThan(100);
  });
});
