// The dashboard ranges the query benchmark measures, and Grafana's interval for each.

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Minute-aligned end of the generated period and of every dashboard range. */
export const END = Date.UTC(2026, 10, 23, 0, 0, 0);
export const RANGES = [
  { label: '1h', ms: HOUR },
  { label: '1d', ms: DAY },
  { label: '30d', ms: 30 * DAY },
] as const;
/** Grafana's $__interval: range ÷ panel width in pixels (~1 000), rounded up to a "nice" step. */
const NICE_MS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);
export const intervalFor = (rangeMs: number) => NICE_MS.find((ms) => ms >= rangeMs / 1000) ?? DAY;
