import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TTFT_DEADLINE_MS } from './config.ts';
import { alertPolicy, conditionHolds, FOR_MINUTES, maxBurnRate, MIN_BURN_RATE, MIN_WINDOW_MINUTES, policyFigures, policyTable, type AlertPolicy, type Severity } from './policy.ts';
import { MAX_OBJECTIVE, MIN_OBJECTIVE } from './config.ts';

const OBJECTIVES = [MIN_OBJECTIVE, 0.6, 0.75, 0.8, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9995, MAX_OBJECTIVE];
const SECOND = 1_000;
const MINUTE = 60_000;

/**
 * A total outage starting `startS` seconds into minute 0 of steady traffic (one call a second),
 * evaluated every minute at `phaseS` seconds past the minute over complete minutes, with `for`:
 * minutes from the outage start to the rule firing, by brute force rather than the formula. Bad
 * calls count in the minute they started, `lagS` after it (a hang: its TTFT deadline report);
 * until then they are in no window.
 */
function simulatedDetection(policy: AlertPolicy, severity: Severity, objective: number, startS: number, phaseS: number, lagS = 0): number | null {
  const start = startS * SECOND;
  const bad = (t: number) => t >= start;
  let at = 0;
  const burn = (endMinute: number, seconds: number) => {
    let n = 0;
    let b = 0;
    for (let t = endMinute * MINUTE - seconds * SECOND; t < endMinute * MINUTE; t += SECOND) {
      if (!bad(t)) n++;
      else if (t + lagS * SECOND <= at) {
        n++;
        b++;
      }
    }
    return n === 0 ? 0 : b / n / (1 - objective);
  };
  let pendingSince: number | null = null;
  for (let k = 0; k < 24 * 60; k++) {
    at = k * MINUTE + phaseS * SECOND;
    if (at < start) continue;
    const windows = policy[severity].flatMap((r) => [r.long, r.short]);
    const rates = Object.fromEntries(windows.map((w) => [w.label, burn(Math.floor(at / MINUTE), w.seconds)]));
    if (!conditionHolds(policy, severity, rates)) {
      pendingSince = null;
      continue;
    }
    pendingSince ??= at;
    if (at - pendingSince >= FOR_MINUTES[severity] * MINUTE) return (at - start) / MINUTE;
  }
  return null;
}

describe('alert policy per objective', () => {
  it('keeps every threshold above a burn of 1 and below a total outage, with margins', () => {
    for (const o of OBJECTIVES) {
      const policy = alertPolicy(o);
      for (const row of [...policy.page, ...policy.ticket]) {
        expect(row.burnRate, `${o}`).toBeGreaterThanOrEqual(MIN_BURN_RATE);
        expect(row.burnRate, `${o}`).toBeLessThanOrEqual((1 + maxBurnRate(o)) / 2 + 1e-9);
        expect(row.short.seconds).toBeLessThanOrEqual(row.long.seconds);
        expect(row.short.seconds % 60).toBe(0);
      }
      // A sustained burn of 1 (or 1.1) in every window holds no row.
      const steady = Object.fromEntries([...policy.page, ...policy.ticket].flatMap((r) => [[r.long.label, 1.1], [r.short.label, 1.1]]));
      expect(conditionHolds(policy, 'page', steady)).toBe(false);
      expect(conditionHolds(policy, 'ticket', steady)).toBe(false);
    }
  });

  it('keeps the Workbook rows where they already work (99.9 %)', () => {
    const p = alertPolicy(0.999);
    expect(p.page.map((r) => [r.long.label, r.short.label, r.burnRate])).toEqual([
      ['1h', '5m', 14.4],
      ['6h', '30m', 6],
    ]);
    expect(p.ticket.map((r) => [r.long.label, r.short.label, r.burnRate])).toEqual([
      ['1d', '2h', 3],
      ['3d', '6h', MIN_BURN_RATE],
    ]);
  });

  it('pages on a total outage within 5 minutes at every objective, as the worst-case formula says', () => {
    for (const o of OBJECTIVES) {
      const policy = alertPolicy(o);
      const [fast] = policyFigures(o, '28d');
      expect(fast?.detectionMinutes, `${o}`).toBeLessThan(5);
      let worst = 0;
      for (const startS of [0, 1, 20, 40, 59]) {
        for (const phaseS of [0, 1, 30, 59]) {
          const t = simulatedDetection(policy, 'page', o, startS, phaseS);
          expect(t, `${o} start ${startS} s phase ${phaseS} s`).not.toBeNull();
          worst = Math.max(worst, t as number);
        }
      }
      expect(worst, `${o}`).toBeLessThanOrEqual(fast?.detectionMinutes as number);
      // The bound is tight to within the grid's resolution.
      expect(worst, `${o}`).toBeGreaterThan((fast?.detectionMinutes as number) - 1.1);
    }
  });

  it('pages on a hang within 5 minutes at every objective and evaluation phase, the reports arriving a deadline and the export delay after each call started', () => {
    // A 1-minute window evaluated early in a minute would hold none of the reports (burn 0).
    const lagS = DEFAULT_TTFT_DEADLINE_MS / 1000 + 5;
    for (const o of OBJECTIVES) {
      const policy = alertPolicy(o);
      for (const row of [...policy.page, ...policy.ticket]) expect(row.short.seconds).toBeGreaterThanOrEqual(MIN_WINDOW_MINUTES * 60);
      for (const startS of [0, 1, 20, 40, 59]) {
        for (const phaseS of [0, 1, 5, 30, 59]) {
          const t = simulatedDetection(policy, 'page', o, startS, phaseS, lagS);
          expect(t, `${o} start ${startS} s phase ${phaseS} s`).not.toBeNull();
          expect(t, `${o} start ${startS} s phase ${phaseS} s`).toBeLessThanOrEqual(5);
        }
      }
    }
  });

  it('refuses objectives outside the accepted range', () => {
    expect(() => alertPolicy(0.45)).toThrow(/outside \[0.5, 0.9999\]/);
    expect(() => alertPolicy(0.99999)).toThrow(RangeError);
  });

  it('docs/slo.md shows the table policyTable computes', async () => {
    const doc = await readFile(new URL('../../../docs/slo.md', import.meta.url), 'utf8');
    const table = /<!-- policy-table: generated by policyTable\(\[0\.9, 0\.95, 0\.99, 0\.999\], '28d'\) -->\n([\s\S]*?)\n<!-- \/policy-table -->/.exec(doc)?.[1];
    expect(table, 'docs/slo.md lacks the policy table markers').toBeDefined();
    expect(table).toBe(policyTable([0.9, 0.95, 0.99, 0.999], '28d'));
  });
});
