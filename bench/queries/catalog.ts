// Every query Grafana would send: panel targets and template-variable queries of the committed
// dashboards, and the data queries of the committed alert rules.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AlertRuleFile, ClickHouseQuery } from '@llm-prism/grafana';

export interface CatalogQuery {
  /** `dashboard uid / panel title [refId]`, `dashboard uid / $variable`, or `alert uid [refId]`. */
  name: string;
  kind: 'panel' | 'variable' | 'alert';
  sql: string;
  /** Alert queries carry their own range (seconds back from the evaluation time). */
  relativeSeconds?: number;
}

interface Dashboard {
  uid: string;
  panels: { title: string; targets?: ClickHouseQuery[] }[];
  templating?: { list: { name: string; type: string; query?: unknown }[] };
}

export async function loadCatalog(root: string): Promise<CatalogQuery[]> {
  const out: CatalogQuery[] = [];
  const dashDir = join(root, 'grafana/dashboards');
  for (const file of (await readdir(dashDir)).sort()) {
    const d = JSON.parse(await readFile(join(dashDir, file), 'utf8')) as Dashboard;
    for (const v of d.templating?.list ?? []) {
      if (v.type === 'query' && typeof v.query === 'string') out.push({ name: `${d.uid} / $${v.name}`, kind: 'variable', sql: v.query });
    }
    for (const p of d.panels) {
      for (const t of p.targets ?? []) out.push({ name: `${d.uid} / ${p.title} [${t.refId}]`, kind: 'panel', sql: t.rawSql });
    }
  }
  const alertDir = join(root, 'grafana/provisioning/alerting');
  for (const file of (await readdir(alertDir)).filter((f) => f.startsWith('slo-')).sort()) {
    const rules = parse(await readFile(join(alertDir, file), 'utf8')) as AlertRuleFile;
    for (const group of rules.groups) {
      for (const rule of group.rules) {
        for (const q of rule.data) {
          if ('rawSql' in q.model) {
            out.push({ name: `${rule.uid} [${q.refId}]`, kind: 'alert', sql: q.model.rawSql, relativeSeconds: q.relativeTimeRange.from });
          }
        }
      }
    }
  }
  return out;
}

/** Queries whose result depends on the dashboard's time range (the SLO panels use fixed windows ending at $__toTime). */
export const dependsOnRange = (sql: string): boolean => /\$__(timeFilter|fromTime|timeInterval|interval)/.test(sql);
