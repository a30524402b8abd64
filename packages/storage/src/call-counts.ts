// The counts of an LLM call span that llm_calls keeps in unsigned integer columns, with the largest
// value each column holds exactly. The view converts them with toUInt16/32/64, which wrap a negative
// or oversized value into a made-up figure (-5 input tokens became 18446744073709551611), and
// truncate a fraction; so ingest refuses a call span whose count is not a whole number in range.
// call-counts.test.ts checks this list against the view's conversions.

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
 * Why a call span's count attribute (its stored text) cannot be stored as sent, or undefined when it
 * can: absent or '' (read as absent), or a whole number from 0 to its column's limit.
 */
export function callCountProblem(key: string, text: string | undefined): string | undefined {
  const limit = CALL_COUNT_LIMITS.get(key);
  if (limit === undefined || text === undefined || text === '') return undefined;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (value <= limit) return undefined;
  return `attribute ${key} ${JSON.stringify(text.slice(0, 40))} is not a count llm_calls can hold (a whole number from 0 to ${limit})`;
}
