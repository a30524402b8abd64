// The alert policy of an objective: which burn-rate windows and thresholds its page and ticket rules
// use, and what that means for a total outage. The SRE Workbook's rows (14.4 / 6 / 3 / 1) are made
// for 99.9 %-class objectives; at objective o no window can burn faster than 1 / (1 − o), so a
// fixed 14.4 never fires at 90 %. Each row is therefore fitted to the objective (docs/slo.md, "Alert
// policy"): thresholds stay between a burn of 1 and a total outage, and the fast page row's window
// shrinks until a total outage pages within minutes.
import type { SloConfig } from './config.ts';
import { MAX_OBJECTIVE, MIN_OBJECTIVE, objectivePercent, WINDOW_SECONDS } from './config.ts';
import type { BurnWindow } from './sli-sql.ts';

export type Severity = 'page' | 'ticket';

export interface BurnRateCondition {
  long: BurnWindow;
  short: BurnWindow;
  /** The row holds when both windows burn faster than this. */
  burnRate: number;
}

export type AlertPolicy = Record<Severity, readonly [BurnRateCondition, BurnRateCondition]>;

/** No threshold at or below this: a sustained burn of 1 (exactly on budget) must never alert, with room for noise. */
export const MIN_BURN_RATE = 1.2;

/** The fast page row's long window is the longest that a total outage fills past its threshold within this many minutes. */
export const FAST_PAGE_FILL_MINUTES = 1.5;

/**
 * No window shorter: a hung call's TTFT deadline report (60 s by default, plus the exporter's 5 s)
 * counts in the minute the call started but arrives in the next one, so at an evaluation early in
 * a minute a 1-minute window holds none of a hang's reports — with every call hanging, no calls at
 * all, a burn of 0 — and the row cannot hold however long the hang lasts. Two minutes hold the
 * reports of the minute before (docs/slo.md, "Alert policy").
 */
export const MIN_WINDOW_MINUTES = 2;

/** Grafana's `for`: evaluations (one a minute) the condition must hold before the rule fires. */
export const FOR_MINUTES: Record<Severity, number> = { page: 1, ticket: 15 };

/** The SRE Workbook's rows (Sloth's defaults): long window in minutes and burn rate. */
const WORKBOOK: Record<Severity, readonly [{ longMinutes: number; burnRate: number }, { longMinutes: number; burnRate: number }]> = {
  page: [
    { longMinutes: 60, burnRate: 14.4 },
    { longMinutes: 360, burnRate: 6 },
  ],
  ticket: [
    { longMinutes: 1_440, burnRate: 3 },
    { longMinutes: 4_320, burnRate: 1 },
  ],
};

/** Highest burn rate any window can show: every event bad. */
export function maxBurnRate(objective: number): number {
  return 1 / (1 - objective);
}

function minutesWindow(minutes: number): BurnWindow {
  const label = minutes % 1_440 === 0 ? `${minutes / 1_440}d` : minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
  return { label, seconds: minutes * 60 };
}

/**
 * The policy of one objective. Each Workbook row keeps its windows and rate, except that
 * - the rate is capped halfway between a burn of 1 and the maximum burn 1/(1 − o) (so a total outage
 *   still exceeds it by a margin) and floored at MIN_BURN_RATE (so a burn of 1 never reaches it);
 * - the first page row's long window shrinks (whole minutes) until a total outage fills it past the
 *   threshold within FAST_PAGE_FILL_MINUTES, down to MIN_WINDOW_MINUTES; its short window stays 1/12
 *   of it, at least MIN_WINDOW_MINUTES (at most the long window).
 */
export function alertPolicy(objective: number): AlertPolicy {
  if (!(objective >= MIN_OBJECTIVE && objective <= MAX_OBJECTIVE)) {
    throw new RangeError(`objective ${objective} is outside [${MIN_OBJECTIVE}, ${MAX_OBJECTIVE}], where the alert policy is defined`);
  }
  const max = maxBurnRate(objective);
  // Two decimals, rounded down (past float noise) so the cap holds; the floor is below every cap (max ≥ 2).
  const fit = (workbook: number) => Math.max(MIN_BURN_RATE, Math.floor(Math.min(workbook, (1 + max) / 2) * 100 + 1e-9) / 100);
  const row = (longMinutes: number, burnRate: number): BurnRateCondition => ({
    long: minutesWindow(longMinutes),
    short: minutesWindow(Math.min(longMinutes, Math.max(MIN_WINDOW_MINUTES, Math.round(longMinutes / 12)))),
    burnRate,
  });
  const [fast, slow] = WORKBOOK.page;
  const fastRate = fit(fast.burnRate);
  // Longest whole-minute W with W × rate / max < FAST_PAGE_FILL_MINUTES.
  const fastLong = Math.min(fast.longMinutes, Math.max(MIN_WINDOW_MINUTES, Math.ceil((FAST_PAGE_FILL_MINUTES * max) / fastRate) - 1));
  const [day, days] = WORKBOOK.ticket;
  return {
    page: [row(fastLong, fastRate), row(slow.longMinutes, fit(slow.burnRate))],
    ticket: [row(day.longMinutes, fit(day.burnRate)), row(days.longMinutes, fit(days.burnRate))],
  };
}

/** Distinct windows of a policy, shortest first. */
export function policyWindows(policy: AlertPolicy): BurnWindow[] {
  const all = [...policy.page, ...policy.ticket].flatMap((r) => [r.long, r.short]);
  return [...new Map(all.map((w) => [w.label, w])).values()].sort((a, b) => a.seconds - b.seconds);
}

/** The rules' condition on burn rates by window label: any row whose long and short windows both exceed its rate. */
export function conditionHolds(policy: AlertPolicy, severity: Severity, burn: Record<string, number>): boolean {
  return policy[severity].some((row) => (burn[row.long.label] ?? 0) > row.burnRate && (burn[row.short.label] ?? 0) > row.burnRate);
}

export interface PolicyRowFigures {
  severity: Severity;
  long: string;
  short: string;
  burnRate: number;
  /**
   * Worst case from the start of a total outage (steady traffic) to the rule firing: the long window
   * covers complete minutes only, so it needs rate/max of its length in bad minutes (x), up to one
   * more minute for the minute the outage starts in to complete and one for the next evaluation,
   * then `for`: x + 2 + for.
   */
  detectionMinutes: number;
  /** Share of the SLO window's error budget a total outage spends by then. */
  budgetSpent: number;
}

/** Figures of every row of an objective's policy for a total outage (the table in docs/slo.md). */
export function policyFigures(objective: number, window: SloConfig['window']): PolicyRowFigures[] {
  const policy = alertPolicy(objective);
  const max = maxBurnRate(objective);
  const windowMinutes = WINDOW_SECONDS[window] / 60;
  return (['page', 'ticket'] as const).flatMap((severity) =>
    policy[severity].map((row) => {
      const detectionMinutes = (row.long.seconds / 60) * (row.burnRate / max) + 2 + FOR_MINUTES[severity];
      return { severity, long: row.long.label, short: row.short.label, burnRate: row.burnRate, detectionMinutes, budgetSpent: (detectionMinutes * max) / windowMinutes };
    }),
  );
}

/** docs/slo.md's policy table for these objectives: one line per objective and row. */
export function policyTable(objectives: readonly number[], window: SloConfig['window']): string {
  const lines = [
    `| objective | max burn | severity | long / short window | burn rate above | total outage fires within | budget (${window}) spent by then |`,
    '|---|---|---|---|---|---|---|',
  ];
  for (const objective of objectives) {
    for (const r of policyFigures(objective, window)) {
      lines.push(
        `| ${objectivePercent(objective)} % | ${+maxBurnRate(objective).toFixed(2)} | ${r.severity} | ${r.long} / ${r.short} | ${r.burnRate} | ${r.detectionMinutes.toFixed(1)} min | ${(r.budgetSpent * 100).toFixed(2)} % |`,
      );
    }
  }
  return lines.join('\n');
}
