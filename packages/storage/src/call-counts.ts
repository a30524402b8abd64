// The counts and durations of an LLM call span that ingest checks before storing them.
// The counts llm_calls keeps in unsigned integer columns, with the largest value each column holds
// exactly. The view converts them with toUInt16/32/64, which wrap a negative or oversized value into
// a made-up figure (-5 input tokens became 18446744073709551611), and truncate a fraction; so ingest
// refuses a call span whose count is not a whole number in range. call-counts.test.ts checks this
// list against the view's conversions.

const UINT16 = 65_535;
const UINT32 = 4_294_967_295;
/** UInt64 columns read the attribute through Float64: exact up to 2^53 − 1. */
const UINT64_EXACT = Number.MAX_SAFE_INTEGER;

export const CALL_COUNT_LIMITS: ReadonlyMap<string, number> = new Map([
  ['gen_ai.usage.input_tokens', UINT64_EXACT],
  ['gen_ai.usage.prompt_tokens', UINT64_EXACT],
  ['gen_ai.usage.output_tokens', UINT64_EXACT],
  ['gen_ai.usage.completion_tokens', UINT64_EXACT],
  ['gen_ai.usage.cache_read.input_tokens', UINT64_EXACT],
  ['gen_ai.usage.cache_creation.input_tokens', UINT64_EXACT],
  ['gen_ai.usage.cache_write.input_tokens', UINT64_EXACT],
  ['gen_ai.usage.reasoning.output_tokens', UINT64_EXACT],
  ['llm.stream.chunks', UINT32],
  ['llm.attempts', UINT16],
  ['llm.retries', UINT16],
  ['llm.rate_limited_attempts', UINT16],
]);

/**
 * The phase durations (ms; the first-chunk time in s) llm_calls keeps in Float64 columns, which the
 * dashboards, the SLO rollups and the report read as measured: a negative or non-finite one (a
 * TTFT of -5 s) would count as the fastest call of all. The derived prefill may read -0.001: it is
 * the difference of three values each rounded to the microsecond.
 */
export const CALL_DURATION_FLOORS: ReadonlyMap<string, number> = new Map([
  ['llm.client_setup_ms', 0],
  ['llm.queue_ms', 0],
  ['llm.ttft_ms', 0],
  ['gen_ai.response.time_to_first_chunk', 0],
  ['llm.prefill_ms', -0.001],
  ['llm.decode_ms', 0],
  ['llm.tool_call_ms', 0],
  ['llm.stream.gap_p50_ms', 0],
  ['llm.stream.gap_p95_ms', 0],
  ['llm.stream.gap_max_ms', 0],
]);

/** Every attribute of a call span whose value ingest checks (callValueProblem). */
export const CALL_CHECKED_KEYS: readonly string[] = [...CALL_COUNT_LIMITS.keys(), ...CALL_DURATION_FLOORS.keys()];

/**
 * Why a call span's count or duration attribute (its stored text) cannot be stored as sent, or
 * undefined when it can: absent or '' (read as absent); a count a whole number from 0 to its
 * column's limit, a duration a finite number from its floor on.
 */
export function callValueProblem(key: string, text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  const limit = CALL_COUNT_LIMITS.get(key);
  if (limit !== undefined) {
    const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
    if (value <= limit) return undefined;
    return `attribute ${key} ${JSON.stringify(text.slice(0, 40))} is not a count llm_calls can hold (a whole number from 0 to ${limit})`;
  }
  const floor = CALL_DURATION_FLOORS.get(key);
  if (floor === undefined) return undefined;
  const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isFinite(value) && value >= floor) return undefined;
  return `attribute ${key} ${JSON.stringify(text.slice(0, 40))} is not a duration (a finite number from ${floor} on)`;
}
