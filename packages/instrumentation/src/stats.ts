/** Small numeric helpers for stream statistics and span times. */

/** How far `Date.now()` may sit from `origin + performance.now()` by its own truncation to whole milliseconds. */
const WALL_CLOCK_JITTER_MS = 2;
/**
 * The epoch time of `performance.now()` = 0: `performance.timeOrigin` (the process start's wall
 * clock) until the wall clock parts from the monotonic one by more than its jitter (stepped by
 * NTP, a VM resumed, the machine slept), then where the wall clock says, as the OTel SDK anchors
 * its own spans. One for every call until it moves again, so calls compare on one base.
 */
let origin = performance.timeOrigin;

/** `performance.now()` times → epoch milliseconds (the time input OTel spans take), made once per call so that its times keep their exact differences. */
export function anchoredEpoch(): (t: number) => number {
  const drift = Date.now() - (origin + performance.now());
  if (Math.abs(drift) > WALL_CLOCK_JITTER_MS) origin += drift;
  const base = origin;
  return (t) => base + t;
}

/** The differences between consecutive values (arrival times → inter-chunk gaps), sorted: one typed array, sorted in native code (no comparator calls). */
export function sortedGaps(times: readonly number[]): Float64Array {
  const out = new Float64Array(Math.max(0, times.length - 1));
  for (let i = 1; i < times.length; i++) out[i - 1] = times[i]! - times[i - 1]!;
  return out.sort();
}

/** Percentile of values already sorted, by linear interpolation between closest ranks (the R-7 / NumPy default). */
export function percentileOfSorted(sorted: Float64Array, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * A duration in milliseconds, rounded to the microsecond (3 decimals): the nearest double to a
 * whole number of microseconds, so it prints without float noise (`300.001`, not `300.00099999999998`).
 */
export const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * Milliseconds → seconds, rounded to the microsecond (6 decimals): `secondsOf(roundMs(x))` is exactly
 * what `roundMs(x) / 1000` reads as in decimal (`0.3`, never `0.30000000000000004`).
 */
export const secondsOf = (ms: number): number => Math.round(ms * 1000) / 1_000_000;
