/// <reference lib="dom" />
// Runs in the browser (serialised into the HTML report by html.ts): builds one ECharts chart per
// container from the embedded report data. Self-contained: it may use nothing from outside itself.
import type { ReportData } from './collect.ts';

export function drawCharts(): void {
  type Slo = NonNullable<ReportData['slos']>[number];
  const data = JSON.parse(document.getElementById('report-data')!.textContent!) as ReportData;
  const echarts = (globalThis as unknown as { echarts: { init: (el: HTMLElement, theme: null, o: object) => { setOption: (o: object) => void } } }).echarts;
  // A report without an SLO config has no SLO chart containers: their charts are skipped.
  const chart = (id: string, option: object) => {
    const el = document.getElementById(id);
    if (el) echarts.init(el, null, { renderer: 'svg' }).setOption({ animation: false, tooltip: { trigger: 'axis' }, legend: {}, ...option });
  };
  const label = (s: Slo) => `${s.service}${s.model ? `/${s.model}` : ''}${s.route ? ` ${s.route}` : ''}`;
  const allSlos = data.slos ?? [];
  for (const kind of ['ttft', 'completion'] as const) {
    const slos = allSlos.filter((s) => s.kind === kind);
    chart(`${kind}-sli`, {
      xAxis: { type: 'time' },
      yAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
      series: slos.map((s) => ({
        // As @llm-prism/grafana's objectivePercent (this page's code cannot import it): 0.57 → 57, not 56.99999999999999.
        name: `${label(s)} (objective ${+(s.objective * 100).toPrecision(12)} %)`,
        type: 'line',
        showSymbol: true,
        data: s.series.map((p) => [p.time.replace(' ', 'T') + 'Z', p.sli]),
        markLine: { symbol: 'none', data: [{ yAxis: s.objective, name: 'objective' }] },
      })),
    });
  }
  // One bar per SLO and policy row (as the SLO overview's bars), red / orange when the row holds, beside its threshold.
  const rows = allSlos.flatMap((s) => s.policy.map((r) => ({ name: `${label(s)} ${s.kind} · ${r.severity}: ${r.long} & ${r.short}`, row: r })));
  chart('burn-rates', {
    xAxis: { type: 'category', data: rows.map((r) => r.name), axisLabel: { rotate: 30, fontSize: 9 } },
    yAxis: { type: 'value', name: 'burn rate' },
    grid: { bottom: 140 },
    series: [
      {
        name: 'burn rate (lower of the two windows)',
        type: 'bar',
        data: rows.map(({ row }) => ({ value: row.burnRate, itemStyle: { color: row.holds ? (row.severity === 'page' ? '#c00' : '#e80') : '#4a4' } })),
      },
      { name: 'row holds above', type: 'bar', itemStyle: { color: '#999' }, data: rows.map(({ row }) => row.threshold) },
    ],
  });
  const models = data.anatomy.map((a) => a.model);
  chart('phases', {
    xAxis: { type: 'category', data: models },
    yAxis: { type: 'value', name: 'ms (p95)' },
    series: (['setup', 'queue', 'prefill', 'decode'] as const).map((phase) => ({
      name: `${phase === 'setup' ? 'client setup' : phase} p95`,
      type: 'bar',
      stack: 'p95',
      data: data.anatomy.map((a) => a[`${phase}_p95`]),
    })),
  });
  const reasons = data.misses.map((m) => `${m.provider} ${m.reason}${m.break_at ? ` at ${m.break_at}` : ''}`);
  chart('cache-misses', {
    tooltip: { trigger: 'item' },
    xAxis: { type: 'category', data: reasons },
    yAxis: { type: 'value', name: 'calls' },
    series: [{ name: 'misses', type: 'bar', data: data.misses.map((m) => m.calls) }],
  });
}

