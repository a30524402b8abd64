// The self-contained HTML report: the report data as JSON plus Apache ECharts (inlined, so the file
// works offline and without Grafana) drawing the charts in the browser.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ReportData } from './collect.ts';
import { drawCharts } from './draw-charts.ts';
import { NO_SLO_IN_SCOPE, noSloConfigHint } from './no-slo-config.ts';
import type { SloStatus } from './slo-status.ts';
import { pricesLabel, usd } from './terminal.ts';

/** Ids of the chart containers, in page order (tests look for a rendered chart in each). */
export const CHART_IDS = ['ttft-sli', 'completion-sli', 'burn-rates', 'phases', 'cache-misses'] as const;
/** The charts of the SLO section: absent from a report made without an SLO config. */
export const SLO_CHART_IDS: readonly (typeof CHART_IDS)[number][] = ['ttft-sli', 'completion-sli', 'burn-rates'];

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(2)} %`);

const sloName = (s: SloStatus) => `${s.service}${s.model ? `/${s.model}` : ''}${s.route ? ` ${s.route}` : ''}`;
const sloKind = (s: SloStatus) => `${s.kind === 'ttft' ? 'TTFT' : 'completion'} ≤ ${s.thresholdMs} ms`;

function sloRows(slos: SloStatus[]): string {
  return slos
    .map(
      (s) => `<tr><td>${escapeHtml(sloName(s))}</td>
<td>${sloKind(s)}</td><td>${pct(s.sli)}</td><td>${pct(s.objective)}</td>
<td>${pct(s.budgetRemaining)}</td><td class="${s.firing.page ? 'page' : s.firing.ticket ? 'ticket' : 'ok'}">${s.firing.page ? 'page' : s.firing.ticket ? 'ticket' : 'ok'}</td></tr>`,
    )
    .join('\n');
}

/** Each SLO's alert policy rows: the SLO overview's burn-rate bars, with whether each row holds. */
function policyRowsHtml(slos: SloStatus[]): string {
  return slos
    .flatMap((s) =>
      s.policy.map(
        (r) => `<tr><td>${escapeHtml(sloName(s))}</td><td>${sloKind(s)}</td><td>${r.severity}</td><td>${r.long} &amp; ${r.short}</td>
<td>${r.threshold}</td><td>${r.burnRate.toFixed(2)}</td><td class="${r.holds ? r.severity : 'ok'}">${r.holds ? 'holds' : 'no'}</td></tr>`,
      ),
    )
    .join('\n');
}

function htmlTable(header: string[], body: (string | number)[][]): string {
  const cell = (v: string | number) => `<td>${escapeHtml(String(v))}</td>`;
  return `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>${body.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}</tbody></table>`;
}

/** Spend by model, waste by cause and by miss reason, the prefix fix's savings (docs/cost.md). */
function costHtml(c: ReportData['cost']): string {
  return `<section id="cost"><h2>Cost: ${escapeHtml(usd(c.total_usd))}${c.unpriced_calls > 0 ? ` (${c.unpriced_calls} calls unpriced, not included)` : ''}</h2>
<p>USD, ${escapeHtml(pricesLabel(c))}.</p>
${htmlTable(['service', 'model', 'calls', 'unpriced', 'cost'], c.by_model.map((r) => [r.service, r.model, r.calls, r.unpriced_calls, usd(r.cost_usd)]))}
<h3>Waste by cause</h3>
${htmlTable(['cause', 'calls', 'wasted'], [...c.waste.map((w) => [w.cause, w.calls, usd(w.waste_usd)]), ['retries (failed attempts, not billed)', c.attempts.failed_attempts, usd(c.attempts.billed_usd)]])}
<h3>Cache-miss waste by reason</h3>
${htmlTable(['reason', 'breaks at', 'calls', 'wasted'], c.miss_waste.map((m) => [m.reason || '—', m.break_at || '—', m.calls, usd(m.waste_usd)]))}
<p>A stable system prompt (misses prefix_changed at system) would have saved <b>${escapeHtml(usd(c.prefix_fix_savings_usd))}</b>.</p>
<h3>Most expensive conversations</h3>
${htmlTable(['conversation', 'calls', 'cost'], c.conversations.map((v) => [v.conversation, v.calls, usd(v.cost_usd)]))}
</section>`;
}

export async function renderHtml(d: ReportData): Promise<string> {
  const echartsPath = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  const echarts = await readFile(echartsPath, 'utf8');
  const section = (id: (typeof CHART_IDS)[number], title: string) =>
    `<section><h2>${title}</h2><div class="chart" id="${id}"></div></section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LLM Prism report</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
.chart{width:1100px;height:320px}.note{background:#f4f4f4;padding:8px 12px}.page{color:#b00;font-weight:bold}.ticket{color:#b60}.ok{color:#070}
</style></head><body>
<h1>LLM Prism report</h1>
<p>${escapeHtml(d.scope.from)} → ${escapeHtml(d.scope.to)}${d.scope.service ? ` · service ${escapeHtml(d.scope.service)}` : ''}</p>
${d.slos === null ? `<p class="note" id="no-slo-config">${escapeHtml(noSloConfigHint())}</p>` : d.slos.length === 0 ? `<p class="note" id="no-slo-in-scope">${escapeHtml(NO_SLO_IN_SCOPE)}</p>` : `<table id="slo-table"><thead><tr><th>service</th><th>SLO</th><th>SLI</th><th>objective</th><th>budget left</th><th>alert</th></tr></thead>
<tbody>${sloRows(d.slos)}</tbody></table>
<h2>Alert policy rows (complete minutes up to the report's end)</h2>
<table id="slo-policy"><thead><tr><th>service</th><th>SLO</th><th>severity</th><th>long &amp; short window</th><th>burn rate above</th><th>burn rate (lower of the two)</th><th>row</th></tr></thead>
<tbody>${policyRowsHtml(d.slos)}</tbody></table>
${section('ttft-sli', 'TTFT SLI over time')}
${section('completion-sli', 'Completion SLI over time')}
${section('burn-rates', 'Burn rate per alert policy row')}`}
${section('phases', 'Where the time goes: client setup / queue / prefill / decode p95 by model')}
${section('cache-misses', 'Prompt-cache misses by reason')}
${costHtml(d.cost)}
<script type="application/json" id="report-data">${scriptJson(d)}</script>
<script>${echarts.replace(/<\/script/gi, '<\\/script')}</script>
<script>(${drawCharts.toString()})();</script>
</body></html>
`;
}
