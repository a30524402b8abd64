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

/** The gaps between consecutive times (arrival times → inter-chunk gaps), and their median, 95th percentile and largest. */
export interface GapStats {
  /** In no particular order (selection reorders them). */
  gaps: Float64Array;
  p50: number;
  p95: number;
  max: number;
}

/**
 * GapStats of `times` (undefined for fewer than two), each percentile by linear interpolation
 * between closest ranks (R-7, NumPy's default), found by selection: linear in the gaps, not a
 * sort of them at every streamed call's end.
 */
export function gapStats(times: readonly number[]): GapStats | undefined {
  if (times.length < 2) return undefined;
  const gaps = new Float64Array(times.length - 1);
  let max = -Infinity;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    gaps[i - 1] = gap;
    if (gap > max) max = gap;
  }
  return { gaps, p50: percentileOf(gaps, 50), p95: percentileOf(gaps, 95), max };
}

/** R-7 percentile of `values` (not empty), which it reorders: the rank's value selected, the next one the least above it. */
function percentileOf(values: Float64Array, p: number): number {
  const rank = (p / 100) * (values.length - 1);
  const lo = Math.floor(rank);
  const at = select(values, lo);
  if (rank === lo) return at;
  let next = values[lo + 1]!;
  for (let i = lo + 2; i < values.length; i++) if (values[i]! < next) next = values[i]!;
  return at + (next - at) * (rank - lo);
}

/** Hoare's selection: reorders `a` so that `a[k]` is its k-th smallest, nothing larger before it and nothing smaller after it. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    const pivot = a[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const x = a[i]!;
        a[i++] = a[j]!;
        a[j--] = x;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
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
