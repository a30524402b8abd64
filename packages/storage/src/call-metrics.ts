// The one definition of each per-call figure over `llm_calls` columns, as SQL: the Grafana
// dashboards, the report and the SLO rollups all build their queries from these, so a hit ratio, a
// miss or a failed outcome means the same thing wherever it is shown.

/** A call that read (some of) its prefix from the provider's cache. */
export const CACHE_HIT = "CacheState IN ('hit', 'partial')";

/**
 * A call with an eligible prefix that read nothing from the cache: `miss`, and `write` (the
 * provider stored the prefix this call sent — still a miss for this call, with its miss reason).
 */
export const CACHE_MISS = "CacheState IN ('miss', 'write')";

/** Calls with a cacheable prefix (hits and misses); `none` and calls without usage are not. */
export const CACHE_ELIGIBLE = `(${CACHE_HIT} OR ${CACHE_MISS})`;

/** Hits ÷ eligible calls, NULL without eligible calls, with `countIf` counting the calls meeting a condition. */
const hitRatio = (countIf: (condition: string) => string): string => `${countIf(CACHE_HIT)} / nullIf(${countIf(CACHE_ELIGIBLE)}, 0)`;

/** The hit ratio over llm_calls rows (an aggregate expression). */
export const HIT_RATIO = hitRatio((condition) => `countIf(${condition})`);

/** The same hit ratio over rows counting calls in `Calls` per CacheState (the hourly rollups). */
export const HIT_RATIO_OF_COUNTS = hitRatio((condition) => `sumIf(Calls, ${condition})`);

/** Cache-read input tokens ÷ all input tokens, NULL without input tokens (an aggregate expression). */
export const CACHED_TOKEN_SHARE = 'sum(CacheReadTokens) / nullIf(sum(InputTokens), 0)';

/** The miss reason of a miss (`cold`, `expired`, `evicted`, `prefix_changed`; '' when none was recorded). */
export const MISS_REASON = 'CacheMissReason';

/** Outcomes that make a call a bad completion event whatever its duration. */
export const FAILED_OUTCOMES = ['error', 'truncated', 'refused', 'filtered'] as const;

export const SUCCEEDED = "Outcome = 'success'";
export const FAILED = `Outcome IN (${FAILED_OUTCOMES.map((o) => `'${o}'`).join(', ')})`;
/** The application broke the call off (docs/conventions.md, `llm.outcome`). */
export const ABORTED = "Outcome = 'aborted'";
/** Aborted before its first output chunk arrived: the user gave up waiting for it. */
export const ABORTED_BEFORE_FIRST_CHUNK = `${ABORTED} AND TtftMs IS NULL`;
/** The call failed: an error status, a failed stream or a connection failure (`llm.outcome` error). */
export const ERRORED = "Outcome = 'error'";
/** The answer was cut off at the output limit (finish reason length / max_tokens). */
export const TRUNCATED = "Outcome = 'truncated'";
