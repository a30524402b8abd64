// Good and total events per start minute, as the rollups hold them, with the time each call becomes
// visible (its span ended and was exported; for a hung call, first its TTFT deadline report): the
// drill's minute-by-minute evaluation reads windows from here, and checks them against the rules'
// own SQL on the store at chosen minutes.
const MINUTE = 60_000;

/** How a call counts before its own span is visible: by its TTFT deadline report, from `visibleAtMs`. */
export interface Early {
  visibleAtMs: number;
  good: boolean;
}

export class MinuteCounts {
  readonly #base: number;
  readonly #good: number[];
  readonly #total: number[];
  /** Calls not yet visible at the end of their start minute, by minute: [visibleAt, good, earlier report]. */
  readonly #late = new Map<number, [number, boolean, Early | undefined][]>();
  /** Longest time from a call's start to its visibility, in minutes (rounded up). */
  #lagMinutes = 0;
  #goodPrefix: number[] = [];
  #totalPrefix: number[] = [];

  /** Minutes from `baseMs` (minute-aligned) on, `minutes` of them. */
  constructor(baseMs: number, minutes: number) {
    this.#base = baseMs;
    this.#good = new Array<number>(minutes).fill(0);
    this.#total = new Array<number>(minutes).fill(0);
  }

  /** A call counted as `good` (or bad) once visible; `early`: as its report says before that. */
  add(startMs: number, visibleAtMs: number, good: boolean, early?: Early): void {
    const minute = Math.floor((startMs - this.#base) / MINUTE);
    if (!(minute >= 0 && minute < this.#total.length)) throw new RangeError(`call at ${new Date(startMs).toISOString()} outside the counted minutes`);
    this.#total[minute]!++;
    if (good) this.#good[minute]!++;
    if (visibleAtMs > this.#base + (minute + 1) * MINUTE) {
      const late = this.#late.get(minute) ?? [];
      late.push([visibleAtMs, good, early]);
      this.#late.set(minute, late);
      this.#lagMinutes = Math.max(this.#lagMinutes, Math.ceil((visibleAtMs - startMs) / MINUTE));
    }
  }

  /** Call once every call is added. */
  seal(): void {
    const prefix = (xs: number[]) => xs.reduce<number[]>((acc, x) => (acc.push((acc.at(-1) ?? 0) + x), acc), [0]);
    this.#goodPrefix = prefix(this.#good);
    this.#totalPrefix = prefix(this.#total);
  }

  /**
   * Calls started in the `seconds` before `endMs` (a minute boundary) whose span (or report) was
   * visible at `atMs`, as the rollup query `Minute >= end − seconds AND Minute < end` counts them then.
   */
  window(endMs: number, seconds: number, atMs: number): { good: number; total: number } {
    const to = Math.max(0, Math.min(this.#total.length, Math.floor((endMs - this.#base) / MINUTE)));
    const from = Math.max(0, Math.min(to, Math.ceil((endMs - seconds * 1000 - this.#base) / MINUTE)));
    let good = (this.#goodPrefix[to] as number) - (this.#goodPrefix[from] as number);
    let total = (this.#totalPrefix[to] as number) - (this.#totalPrefix[from] as number);
    // Only calls started within the longest lag before `atMs` can still be invisible.
    const recent = Math.max(from, Math.floor((atMs - this.#base) / MINUTE) - this.#lagMinutes - 1);
    for (let minute = recent; minute < to; minute++) {
      for (const [visibleAt, isGood, early] of this.#late.get(minute) ?? []) {
        if (visibleAt <= atMs) continue;
        total--;
        if (isGood) good--;
        if (early !== undefined && early.visibleAtMs <= atMs) {
          total++;
          if (early.good) good++;
        }
      }
    }
    return { good, total };
  }
}
