// The dashboards' $service / $model filters on names that SQL quoting gets wrong: a quote, a
// backslash (`DOMAIN\svc`; Grafana's quoting formats escape none, and ClickHouse reads one in a
// string literal as an escape), a backslash before a letter that would make an escape sequence,
// a trailing one, unicode, an empty name. Each name selected alone counts exactly its calls, and
// a selection of every name counts what "All" does.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ALL, expandMacros, generateFiles, loadSloConfig, type MacroContext } from '@llm-prism/grafana';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { INCIDENT_END, INCIDENT_START, seedCalls, seedRows } from './grafana-seed.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SERVICES = ['demo-chat', "o'brien svc", 'DOMAIN\\svc', 'trail\\', 'a\\nb', '日本語 サービス', ''];
const MODELS = ['gpt-4o', "m'od\\el"];
const RANGE: MacroContext = { from: INCIDENT_START - 3 * 3_600_000, to: INCIDENT_END, intervalMs: 3_600_000 };
/** Additive columns of the panels that count calls or dollars. */
const ADDITIVE = ['calls', 'cost_usd'];

type Row = Record<string, unknown>;
interface Target {
  rawSql: string;
}
interface Panel {
  title: string;
  targets?: Target[];
}

let storage: Storage;
const queries: { title: string; sql: string }[] = [];

beforeAll(async () => {
  const config = await loadSloConfig(`${ROOT}packages/demo/llm-prism.slo.yaml`);
  for (const [path, content] of generateFiles(config)) {
    if (!path.startsWith('dashboards/') || path.endsWith('slo-overview.json')) continue;
    const dashboard = JSON.parse(content) as { uid: string; panels: Panel[] };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) if (target.rawSql.includes('$service')) queries.push({ title: `${dashboard.uid}: ${panel.title}`, sql: target.rawSql });
    }
  }
  storage = await openStorage({ dataDir: await tempDataDir('llm-prism-variables-') });
  const calls = seedCalls().filter((c) => c.start >= RANGE.from && c.start < RANGE.to);
  const { rows } = seedRows(calls);
  const index = new Map(calls.map((c, i) => [c.traceId, i]));
  for (const row of rows) {
    const i = index.get(row.TraceId) ?? 0;
    const service = SERVICES[i % SERVICES.length]!;
    row.ServiceName = service;
    row.ResourceAttributes = { ...row.ResourceAttributes, 'service.name': service };
    if (row.SpanAttributes['gen_ai.request.model'] !== undefined) row.SpanAttributes = { ...row.SpanAttributes, 'gen_ai.request.model': MODELS[i % MODELS.length]! };
  }
  await storage.insertSpans(rows);
});
afterAll(() => storage.close());

async function run(sql: string, vars: MacroContext['vars']): Promise<Row[]> {
  const result = await storage.client.query({ query: expandMacros(sql, { ...RANGE, vars }), format: 'JSONEachRow' });
  return result.json<Row>();
}
const sums = (rows: Row[]) => Object.fromEntries(ADDITIVE.map((key) => [key, rows.reduce((s, r) => s + (key in r ? Number(r[key]) || 0 : 0), 0)]));

it('every filtered panel counts exactly the selected names, whatever their characters', async () => {
  const names = await storage.client
    .query({ query: `SELECT groupUniqArray(ServiceName) AS services, groupUniqArray(RequestModel) AS models FROM otel.llm_calls`, format: 'JSONEachRow' })
    .then((r) => r.json<{ services: string[]; models: string[] }>());
  // Every name holds calls.
  expect(new Set(names[0]?.services)).toEqual(new Set(SERVICES));
  expect(new Set(names[0]?.models)).toEqual(new Set(MODELS));
  const close = (actual: Record<string, number>, expected: Record<string, number>, what: string) => {
    for (const key of ADDITIVE) expect(actual[key], `${what}: ${key}`).toBeCloseTo(expected[key] ?? 0, 9);
  };
  let checked = 0;
  for (const { title, sql } of queries) {
    const counted = (vars: MacroContext['vars']) =>
      run(sql, { trace_id: '', ...vars }).then(sums, (e: unknown) => {
        throw new Error(`${title} with ${JSON.stringify(vars)}: ${String(e)}`);
      });
    const all = await counted({ service: ALL, model: ALL });
    if (ADDITIVE.every((key) => all[key] === 0)) continue;
    close(await counted({ service: SERVICES, model: MODELS }), all, `${title}: every name selected`);
    // Each name alone counts its own calls (none is lost to quoting): together they count what the
    // selection of them all does. The empty name alone is All to the plugin (`$__conditionalAll`
    // tests the value as text), so it is only ever selected with others.
    for (const [variable, values] of [['service', SERVICES], ['model', MODELS]] as const) {
      const named = values.filter((v) => v !== '');
      const each = await Promise.all(named.map((v) => counted({ service: ALL, model: ALL, [variable]: [v] })));
      for (const [i, one] of each.entries()) expect((one.calls ?? 0) + (one.cost_usd ?? 0), `${title}: ${variable} ${JSON.stringify(named[i])}`).toBeGreaterThan(0);
      const together = await counted({ service: ALL, model: ALL, [variable]: named });
      close(Object.fromEntries(ADDITIVE.map((key) => [key, each.reduce((s, one) => s + one[key]!, 0)])), together, `${title}: the ${variable} names one by one`);
      if (named.length < values.length) expect(together.calls! + together.cost_usd!, `${title}: without the empty ${variable}`).toBeLessThan(all.calls! + all.cost_usd!);
    }
    checked++;
  }
  expect(checked).toBeGreaterThan(3);
});
