// The terminal report: a compact summary an on-call engineer can read in one screen.
import type { WasteCause } from '@llm-prism/storage';
import type { ReportData } from './collect.ts';
import { NO_SLO_IN_SCOPE } from './no-slo-config.ts';
import type { SloStatus } from './slo-status.ts';
import { table } from './table.ts';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : Math.round(Number(v)).toString());
const pair = (a: number | null, b: number | null) => `${ms(a)} / ${ms(b)}`;
const pct = (v: number | null, digits = 1) => (v === null ? '—' : `${(v * 100).toFixed(digits)} %`);
/** USD to the microdollar (demo-sized calls cost fractions of a cent); null is unpriced, never $0. */
export const usd = (v: number | null) => (v === null ? 'unpriced' : `$${Number(v).toFixed(6)}`);
/** Burn rates to two decimals, as the SLO overview's bars show them. */
const rate = (v: number) => v.toFixed(2);

const sloName = (s: SloStatus) =>
  `${s.service}${s.model ? `/${s.model}` : ''}${s.route ? ` ${s.route}` : ''} ${s.kind === 'ttft' ? 'TTFT' : 'completion'} ≤ ${s.thresholdMs} ms`;

/** The SLO section's lines below its heading: status per SLO, then its alert policy's rows (the SLO overview's burn-rate bars). */
function sloSection(slos: SloStatus[]): string[] {
  if (slos.length === 0) return [`  ${NO_SLO_IN_SCOPE}`];
  return [
    table(
      ['SLO', 'SLI', 'objective', 'budget left', 'alert'],
      slos.map((s) => [sloName(s), `${pct(s.sli, 2)} (${s.total})`, pct(s.objective, 1), pct(s.budgetRemaining, 0), s.firing.page ? 'PAGE' : s.firing.ticket ? 'ticket' : 'ok']),
    ),
    `  budget over the ${slos[0]!.window} window; alert rows of each objective's policy (docs/slo.md), over complete minutes:`,
    table(
      ['SLO', 'severity', 'windows', 'above', 'burn rate', 'holds'],
      slos.flatMap((s) => s.policy.map((r) => [sloName(s), r.severity, `${r.long} & ${r.short}`, r.threshold, rate(r.burnRate), r.holds ? 'yes' : 'no'])),
      '    ',
    ),
  ];
}

const CAUSE_LABEL: Record<WasteCause, string> = {
  error: 'errored calls (billed tokens of failed calls)',
  truncated: 'truncated answers (finish reason length)',
  duplicate: 'duplicate calls (same prompt within 60 s)',
  cache_miss: 'cache misses (paid above a cache read)',
};

/** Which prices the figures are at: the shipped table, or it with the config's rows. */
export const pricesLabel = (c: ReportData['cost']): string =>
  c.config_price_rows === 0 ? 'prices as of the table in docs/cost.md' : `prices of the table in docs/cost.md with ${c.config_price_rows} row${c.config_price_rows === 1 ? '' : 's'} of the config's prices:`;

/** The cost section: spend by model, waste by cause, what a prefix fix saves (docs/cost.md). */
function costSection(c: ReportData['cost']): string[] {
  const unpriced = c.unpriced_calls > 0 ? ` — ${c.unpriced_calls} calls unpriced (no price for their model or token class), not included` : '';
  const out = [`Cost (USD, ${pricesLabel(c)}): ${usd(c.total_usd)}${unpriced}`];
  out.push(table(['service', 'model', 'calls', 'unpriced', 'cost'], c.by_model.map((r) => [r.service, r.model, r.calls, r.unpriced_calls, usd(r.cost_usd)])));
  out.push('  waste by cause:');
  out.push(table(['cause', 'calls', 'wasted'], c.waste.map((w) => [CAUSE_LABEL[w.cause], w.calls, usd(w.waste_usd)]), '    '));
  out.push(`    retries: ${c.attempts.failed_attempts} failed attempts (${c.attempts.rate_limited_attempts} answered 429) before an answer — ${usd(c.attempts.billed_usd)} billed (429/5xx are not billed)`);
  if (c.miss_waste.length > 0) {
    out.push('  cache-miss waste by reason:');
    out.push(table(['reason', 'breaks at', 'calls', 'wasted'], c.miss_waste.map((m) => [m.reason || '—', m.break_at || '—', m.calls, usd(m.waste_usd)]), '    '));
  }
  out.push(`  a stable system prompt (prefix_changed at system) would have saved ${usd(c.prefix_fix_savings_usd)}`);
  if (c.conversations.length > 0) {
    out.push('  most expensive conversations:');
    out.push(table(['conversation', 'calls', 'cost'], c.conversations.map((v) => [v.conversation, v.calls, usd(v.cost_usd)]), '    '));
  }
  return out;
}

export function formatTerminal(d: ReportData): string {
  const out: string[] = [];
  out.push(`LLM Prism report — ${d.scope.from} → ${d.scope.to}${d.scope.service ? ` (service ${d.scope.service})` : ''}`);

  // Without an SLO config (slos null) there is no SLO section at all; the CLI says how to add one.
  if (d.slos !== null) out.push('', 'SLOs', ...sloSection(d.slos));

  // No calls: one line rather than empty tables and a cost that reads "unpriced" (a mistyped
  // --service, or a range before the first call). The cost rollups outlive llm_calls (400 days
  // against the retention): with them, the sections are printed.
  if (d.anatomy.length === 0 && d.cost.by_model.length === 0) {
    out.push('', `No LLM calls${d.scope.service ? ` of service ${d.scope.service}` : ''} stored in this range.`);
    return `${out.join('\n')}\n`;
  }

  out.push('', 'TTFT anatomy by model (ms, p50 / p95)');
  out.push(
    table(
      ['model', 'calls', 'client setup', 'queue', 'prefill', 'TTFT', 'decode', 'total'],
      d.anatomy.map((a) => [a.model, a.calls, pair(a.setup_p50, a.setup_p95), pair(a.queue_p50, a.queue_p95), pair(a.prefill_p50, a.prefill_p95), pair(a.ttft_p50, a.ttft_p95), pair(a.decode_p50, a.decode_p95), pair(a.total_p50, a.total_p95)]),
    ),
  );

  out.push('', 'Prompt cache');
  out.push(
    table(
      ['provider', 'calls', 'hit', 'partial', 'write', 'miss', 'none', 'hit ratio', 'cached input'],
      d.cache.map((c) => [c.provider, c.calls, c.hit, c.partial, c.write, c.miss, c.none, pct(c.hit_ratio), pct(c.cached_token_share)]),
    ),
  );
  if (d.misses.length > 0) {
    out.push('  misses by reason:');
    out.push(table(['provider', 'reason', 'breaks at', 'calls'], d.misses.map((m) => [m.provider, m.reason, m.break_at || '—', m.calls]), '    '));
  }

  out.push('', 'Outcomes (finish reason as sent; error type)');
  out.push(
    table(
      ['provider', 'model', 'outcome', 'finish reason', 'error type', 'calls'],
      d.outcomes.map((o) => [o.provider, o.model, o.outcome, o.finish_reason || '—', o.error_type || '—', o.calls]),
    ),
  );

  out.push('', 'Retries and rate limits');
  out.push(
    table(
      ['provider', 'calls', 'retried', 'retries', '429s', 'min headroom'],
      d.retries.map((r) => [r.provider, r.calls, r.retried_calls, r.retries, r.rate_limited_attempts, r.min_headroom === null ? '—' : pct(r.min_headroom, 0)]),
    ),
  );

  out.push('', ...costSection(d.cost));

  out.push('', 'Slowest calls');
  out.push(
    table(
      ['duration ms', 'TTFT ms', 'service', 'model', 'outcome', 'trace id'],
      d.slowest.map((s) => [ms(s.duration_ms), ms(s.ttft_ms), s.service, s.model, s.outcome, s.trace_id]),
    ),
  );
  return `${out.join('\n')}\n`;
}
