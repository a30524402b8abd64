// The committed grafana/ tree is exactly what `llm-prism slo generate` makes from
// llm-prism.slo.yaml, and its dashboards and rules are well-formed for Grafana.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as sdk from '@grafana/grafana-foundation-sdk/dashboard';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alertPolicy,
  CLICKHOUSE_PLUGIN_VERSION,
  CONTACT_POINTS,
  DATASOURCE_UID,
  generateFiles,
  justAbove,
  loadSloConfig,
  RUNBOOK_ANCHOR,
  type AlertRuleFile,
  type Severity,
  type SloConfig,
} from '@llm-prism/grafana';

const ROOT = new URL('..', import.meta.url).pathname;
const OUT = join(ROOT, 'grafana');
const PANEL_TYPES = new Set(['alertlist', 'bargauge', 'barchart', 'stat', 'table', 'timeseries', 'traces']);

async function committedFiles(dir = OUT): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? committedFiles(join(dir, e.name)) : Promise.resolve([relative(OUT, join(dir, e.name))]))),
  );
  return nested.flat().sort();
}

const config = (): Promise<SloConfig> => loadSloConfig(join(ROOT, 'packages/demo/llm-prism.slo.yaml'));

/** Runtime check of the fields Grafana requires of a dashboard model (the SDK's Dashboard/Panel types). */
function assertDashboard(value: unknown, file: string): asserts value is sdk.Dashboard & { panels: sdk.Panel[] } {
  const d = value as sdk.Dashboard;
  expect(d.schemaVersion, file).toBe(sdk.defaultDashboard().schemaVersion);
  expect(typeof d.uid, file).toBe('string');
  expect(Array.isArray(d.templating.list ?? []), file).toBe(true);
  expect(Array.isArray(d.annotations.list ?? []), file).toBe(true);
  for (const p of d.panels ?? []) {
    const panel = p as sdk.Panel;
    expect(PANEL_TYPES, `${file}: ${panel.title}`).toContain(panel.type);
    expect(Number.isInteger(panel.id), `${file}: ${panel.title}`).toBe(true);
    const g = panel.gridPos as sdk.GridPos;
    expect(g.x + g.w, `${file}: ${panel.title}`).toBeLessThanOrEqual(24);
    expect(g.h).toBeGreaterThan(0);
    expect(panel.fieldConfig?.defaults, `${file}: ${panel.title}`).toBeDefined();
  }
}

describe('generated Grafana files', () => {
  it('regenerating from llm-prism.slo.yaml reproduces the committed files byte for byte', async () => {
    const files = generateFiles(await config());
    expect(await committedFiles()).toEqual([...files.keys()].sort());
    for (const [path, content] of files) expect(await readFile(join(OUT, path), 'utf8'), `grafana/${path} is stale: run llm-prism slo generate`).toBe(content);
  });

  it('dashboards are well-formed: unique panel ids, every query with refId and datasource uid', async () => {
    const files = generateFiles(await config());
    const dashboards = [...files].filter(([path]) => path.startsWith('dashboards/'));
    expect(dashboards).toHaveLength(6);
    const uids = new Set<string>();
    for (const [path, content] of dashboards) {
      const d: unknown = JSON.parse(content);
      assertDashboard(d, path);
      uids.add(d.uid as string);
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size, path).toBe(ids.length);
      for (const panel of d.panels) {
        const targets = (panel.targets ?? []) as { refId?: string; datasource?: { uid?: string; type?: string }; rawSql?: string }[];
        if (panel.type !== 'alertlist') expect(targets.length, `${path}: ${panel.title}`).toBeGreaterThan(0);
        expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length);
        for (const t of targets as { pluginVersion?: string }[] & typeof targets) {
          expect(t.refId, `${path}: ${panel.title}`).toMatch(/^[A-Z]$/);
          expect(t.datasource).toEqual({ type: 'grafana-clickhouse-datasource', uid: DATASOURCE_UID });
          expect(t.pluginVersion, `${path}: ${panel.title}`).toBe(CLICKHOUSE_PLUGIN_VERSION);
          expect(t.rawSql?.length).toBeGreaterThan(0);
        }
        if (panel.type === 'alertlist') continue;
        // Named on the panel too: nothing relies on ClickHouse being the default datasource.
        expect(panel.datasource, `${path}: ${panel.title}`).toEqual({ type: 'grafana-clickhouse-datasource', uid: DATASOURCE_UID });
        if (panel.type === 'timeseries' || panel.type === 'barchart') {
          expect((panel.options as { legend?: { showLegend?: boolean } }).legend?.showLegend, `${path}: ${panel.title}`).toBe(true);
        }
        const unit = panel.fieldConfig?.defaults.unit;
        if (panel.type !== 'traces') expect(unit, `${path}: ${panel.title}`).toMatch(/\S/);
        // Counts over time are rates per second (the bucket is $__interval_s long), never per bucket.
        if (unit === 'reqps') for (const t of targets) expect(t.rawSql, `${path}: ${panel.title}`).toContain(' / $__interval_s AS ');
        if (panel.type === 'timeseries') expect(['none', 'short'], `${path}: ${panel.title}`).not.toContain(unit);
      }
      for (const v of d.templating.list ?? []) {
        if (v.type === 'query') expect(v.datasource?.uid, `${path}: $${v.name}`).toBe(DATASOURCE_UID);
      }
      // The dashboards dropdown in the top bar: with the SDK's default placement (the controls
      // menu) Grafana 12 releases show a `dashboards` link nowhere (common.ts).
      expect((d as { links?: unknown[] }).links, path).toEqual([
        { title: 'LLM Prism', type: 'dashboards', asDropdown: true, icon: expect.any(String), includeVars: true, keepTime: true, tags: expect.arrayContaining(['llm-prism']), targetBlank: false, tooltip: '' },
      ]);
    }
    expect(uids.size).toBe(6);
  });

  it('alert rules reference existing queries, datasource and dashboard panels', async () => {
    const files = generateFiles(await config());
    const overview = JSON.parse(files.get('dashboards/slo-overview.json') as string) as { uid: string; panels: { id: number; type: string; title: string }[] };
    const ruleUids = new Set<string>();
    const rules = [...files].filter(([path]) => path.startsWith('provisioning/alerting/slo-'));
    expect(rules).toHaveLength((await config()).slos.length);
    for (const [path, content] of rules) {
      const file = parse(content) as AlertRuleFile;
      expect(file.apiVersion).toBe(1);
      for (const group of file.groups) {
        expect(group.interval).toBe('1m');
        expect(group.rules).toHaveLength(4);
        for (const rule of group.rules) {
          ruleUids.add(rule.uid);
          expect(rule.uid.length, rule.uid).toBeLessThanOrEqual(40);
          expect(rule.data.map((q) => q.refId)).toEqual(['A', 'B', 'C', 'D', 'E']);
          expect(rule.condition).toBe('E');
          expect([rule.noDataState, rule.execErrState]).toEqual(['OK', 'Error']);
          for (const q of rule.data.slice(0, 4)) {
            expect(q.datasourceUid, path).toBe(DATASOURCE_UID);
            expect((q.model as { datasource: { uid: string } }).datasource.uid).toBe(DATASOURCE_UID);
            expect((q.model as { pluginVersion: string }).pluginVersion).toBe(CLICKHOUSE_PLUGIN_VERSION);
            expect(q.model.refId).toBe(q.refId);
          }
          expect(rule.labels).toMatchObject({ severity: expect.stringMatching(/^(page|ticket)$/), service: 'demo-chat', slo: expect.any(String) });
          expect(rule.annotations.description).toContain('$values.A.Value');
          expect(rule.annotations.runbook_url).toBe(`docs/slo.md#${RUNBOOK_ANCHOR[rule.labels.sli as 'ttft' | 'completion']}`);
          expect(rule.annotations.__dashboardUid__).toBe(overview.uid);
          const panel = overview.panels.find((p) => String(p.id) === rule.annotations.__panelId__);
          expect(panel?.type).toBe('bargauge');
          expect(panel?.title).toContain(rule.labels.sli === 'ttft' ? 'TTFT' : 'Completion');
        }
      }
    }
    expect(ruleUids.size).toBe(rules.length * 4);
  });

  it('each burn-rate panel shows its rules’ rows: the windows and thresholds of the objective’s policy', async () => {
    const cfg = await config();
    const files = generateFiles(cfg);
    type Override = { matcher: { options: string }; properties: { id: string; value: unknown }[] };
    const overview = JSON.parse(files.get('dashboards/slo-overview.json') as string) as {
      panels: { id: number; title: string; targets: { rawSql: string }[]; fieldConfig: { overrides: Override[] } }[];
    };
    const rules = [...files].filter(([path]) => path.startsWith('provisioning/alerting/slo-')).flatMap(([, c]) => (parse(c) as AlertRuleFile).groups.flatMap((g) => g.rules));
    expect(rules).toHaveLength(cfg.slos.length * 4);
    for (const rule of rules) {
      const severity = rule.labels.severity as Severity;
      const slo = cfg.slos.find((s) => s.id === rule.labels.slo_name);
      const objective = slo?.[rule.labels.sli as 'ttft' | 'completion'].objective as number;
      const panel = overview.panels.find((p) => String(p.id) === rule.annotations.__panelId__);
      const expression = (rule.data.find((q) => q.refId === rule.condition)?.model as { expression: string }).expression;
      // The rule's rates, in order: ($A > r1 && $B > r1) || ($C > r2 && $D > r2).
      const ruleRates = [...expression.matchAll(/\$[A-D] > ([\d.]+)/g)].map((m) => Number(m[1]));
      alertPolicy(objective)[severity].forEach((row, i) => {
        expect([ruleRates[2 * i], ruleRates[2 * i + 1]], rule.uid).toEqual([row.burnRate, row.burnRate]);
        const override = panel?.fieldConfig.overrides.find((o) => o.matcher.options === `${severity}_${i + 1}`);
        const prop = (id: string) => override?.properties.find((p) => p.id === id)?.value;
        expect(prop('displayName'), rule.uid).toBe(`${severity}: ${row.long.label} & ${row.short.label} > ${row.burnRate}`);
        const steps = (prop('thresholds') as { steps: { value: number | null; color: string }[] }).steps;
        // Grafana colours from a step up (≥); the rule fires above its rate (>): the step is the next number above it.
        expect(steps.at(-1), rule.uid).toEqual({ value: justAbove(row.burnRate), color: severity === 'page' ? 'red' : 'orange' });
        expect(justAbove(row.burnRate)).toBeGreaterThan(row.burnRate);
        expect(panel?.targets[0]?.rawSql, rule.uid).toContain(`least(burn_${row.long.label}, burn_${row.short.label}) AS ${severity}_${i + 1}`);
      });
    }
  });

  it('every runbook_url anchor is a heading of docs/slo.md', async () => {
    const doc = await readFile(join(ROOT, 'docs/slo.md'), 'utf8');
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => (m[1] as string).toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    for (const anchor of Object.values(RUNBOOK_ANCHOR)) expect(anchors, anchor).toContain(anchor);
  });

  it('routes page and ticket alerts by severity to their contact points', async () => {
    const files = generateFiles(await config());
    const n = parse(files.get('provisioning/alerting/notifications.yaml') as string) as {
      contactPoints: { name: string; receivers: { uid: string; type: string; settings: { url: string } }[] }[];
      policies: { receiver: string; routes: { receiver: string; object_matchers: string[][] }[] }[];
    };
    const names = n.contactPoints.map((c) => c.name);
    expect(names.sort()).toEqual([CONTACT_POINTS.page.name, CONTACT_POINTS.ticket.name].sort());
    for (const c of n.contactPoints) expect(c.receivers[0]?.settings.url).toMatch(/^\$\{LLM_PRISM_(PAGE|TICKET)_WEBHOOK_URL\}$/);
    const [root] = n.policies;
    expect(names).toContain(root?.receiver);
    const rules = [...files].filter(([path]) => path.startsWith('provisioning/alerting/slo-')).flatMap(([, c]) => (parse(c) as AlertRuleFile).groups.flatMap((g) => g.rules));
    for (const rule of rules) {
      const route = root?.routes.find((r) => r.object_matchers.every(([label, op, value]) => op === '=' && rule.labels[label as string] === value));
      expect(route?.receiver, rule.uid).toBe(CONTACT_POINTS[rule.labels.severity as 'page' | 'ticket'].name);
    }
  });

  it('two SLOs of one service (a strict and a lax one): alert rule and panel titles stay unique (Grafana refuses two rules of one title in a folder)', async () => {
    const base = await config();
    const strict = structuredClone(base.slos[0]!);
    const twice: SloConfig = { ...base, slos: [{ ...strict, id: 'strict' }, { ...strict, id: 'lax', ttft: { thresholdMs: 3000, objective: 0.9 } }] };
    const files = generateFiles(twice);
    const rules = [...files].filter(([k]) => k.startsWith('provisioning/alerting/slo-')).flatMap(([, text]) => (parse(text) as AlertRuleFile).groups.flatMap((g) => g.rules));
    const titles = rules.map((r) => r.title);
    expect(titles).toHaveLength(8);
    expect(new Set(titles).size).toBe(8);
    expect(titles).toContain(`${strict.service} [strict] TTFT SLO burn rate (page)`);
    const overview = JSON.parse(files.get('dashboards/slo-overview.json') as string) as { panels: { title?: string }[] };
    const panelTitles = overview.panels.map((p) => p.title);
    expect(new Set(panelTitles).size).toBe(panelTitles.length);
    // A scope of its own keeps its plain title.
    expect(generateFiles(base).get(`provisioning/alerting/slo-${base.slos[0]!.id}.yaml`)).toContain(`title: ${base.slos[0]!.service} TTFT SLO burn rate (page)`);
  });

  it('changing an objective changes only the SLO overview and that SLO’s rules, with the new figures', async () => {
    const base = await config();
    const changed: SloConfig = structuredClone(base);
    const slo = changed.slos[1] as SloConfig['slos'][number];
    slo.ttft = { thresholdMs: 1200, objective: 0.975 };
    const before = generateFiles(base);
    const after = generateFiles(changed);
    const differing = [...after.keys()].filter((k) => after.get(k) !== before.get(k));
    expect(differing.sort()).toEqual(['dashboards/slo-overview.json', `provisioning/alerting/slo-${slo.id}.yaml`]);
    const rules = after.get(`provisioning/alerting/slo-${slo.id}.yaml`) as string;
    expect(rules).toContain('TtftBucketMs <= 1200');
    expect(rules).toContain('(1 - 0.975)');
    expect(before.get(`provisioning/alerting/slo-${slo.id}.yaml`)).not.toContain('TtftBucketMs <= 1200');
  });
});
