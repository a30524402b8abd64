// Runs the committed prompt-cache dashboard's hit-ratio and misses-by-reason queries over the
// range of a report and checks that both show the same figures (issue 14: one definition of
// every metric). Used on the seeded Grafana data and on the demo's data.
import { readFile } from 'node:fs/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { expect } from 'vitest';
import { ALL, expandMacros, type ClickHouseQuery } from '@llm-prism/grafana';
import type { ReportData } from '@llm-prism/report';

const DASHBOARD = new URL('../grafana/dashboards/prompt-cache.json', import.meta.url);

/** One $__timeInterval bucket holding every timestamp up to 2106: the panel's value over the whole range. */
const WHOLE_RANGE_INTERVAL_MS = 2 ** 32 * 1000;

type Row = Record<string, unknown>;

async function panelRows(client: ClickHouseClient, title: string, from: number, to: number, service: string): Promise<Row[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: { title: string; targets: ClickHouseQuery[] }[] };
  const panel = dashboard.panels.find((p) => p.title === title);
  if (panel === undefined) throw new Error(`no panel "${title}" on the prompt-cache dashboard`);
  const [target] = panel.targets;
  const query = expandMacros((target as ClickHouseQuery).rawSql, {
    from,
    to,
    intervalMs: WHOLE_RANGE_INTERVAL_MS,
    vars: { service: [service], model: ALL },
  });
  return (await client.query({ query, format: 'JSONEachRow' })).json<Row>();
}

export interface CacheFigures {
  hitRatio: number;
  misses: Record<string, number>;
}

/**
 * Asserts that the dashboard's hit ratio and misses by reason over the report's range and service
 * equal the report's (summed over its providers), and returns them.
 */
export async function expectCacheAgreement(client: ClickHouseClient, report: Pick<ReportData, 'scope' | 'cache' | 'misses'>): Promise<CacheFigures> {
  const from = Date.parse(report.scope.from);
  const to = Date.parse(report.scope.to);
  const service = report.scope.service;
  if (service === undefined) throw new Error('the report must be scoped to one service, as the dashboard is');

  const [ratio, ...more] = await panelRows(client, 'Cache hit ratio and cached-token share', from, to, service);
  expect(more).toEqual([]);
  const n = (v: unknown) => Number(v);
  const hits = report.cache.reduce((s, c) => s + n(c.hit) + n(c.partial), 0);
  const misses = report.cache.reduce((s, c) => s + n(c.write) + n(c.miss), 0);
  const hitRatio = hits / (hits + misses);
  expect(n(ratio?.hit_ratio)).toBeCloseTo(hitRatio, 12);
  for (const c of report.cache) {
    const eligible = n(c.hit) + n(c.partial) + n(c.write) + n(c.miss);
    if (eligible === 0) expect(c.hit_ratio).toBeNull();
    else expect(n(c.hit_ratio)).toBeCloseTo((n(c.hit) + n(c.partial)) / eligible, 12);
  }

  // The panel shows misses per second of its bucket: times the bucket's seconds, counts.
  const byReason: Record<string, number> = {};
  for (const r of await panelRows(client, 'Cache misses by reason', from, to, service)) {
    const reason = String(r.CacheMissReason);
    byReason[reason] = (byReason[reason] ?? 0) + Math.round(n(r.misses) * (WHOLE_RANGE_INTERVAL_MS / 1000));
  }
  const reported: Record<string, number> = {};
  for (const m of report.misses) reported[m.reason] = (reported[m.reason] ?? 0) + n(m.calls);
  expect(byReason).toEqual(reported);
  expect(Object.values(reported).reduce((s, v) => s + v, 0)).toBe(misses);
  return { hitRatio, misses: reported };
}
