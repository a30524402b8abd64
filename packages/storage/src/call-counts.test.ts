import { expect, test } from 'vitest';
import { CALL_COUNT_LIMITS, CALL_DURATION_FLOORS, callValueProblem } from './call-counts.ts';
import { schemaDdl } from './migrations.ts';

test('the counts are exactly the attributes the current llm_calls view converts to unsigned integers, each with its column\'s limit', () => {
  const view = schemaDdl({ database: 'otel' }).filter((s) => s.includes('llm_calls_mv')).at(-1)!;
  const limits: Record<string, number> = { 16: 65_535, 32: 4_294_967_295, 64: Number.MAX_SAFE_INTEGER };
  const converted = new Map<string, number>();
  for (const [, bits, expression] of view.matchAll(/toUInt(16|32|64)\(ifNull\((.*)\) AS \w+,?$/gm)) {
    for (const [, key] of expression!.matchAll(/SpanAttributes\['([^']+)'\]/g)) converted.set(key!, limits[bits!]!);
  }
  expect(converted.size).toBeGreaterThan(10);
  expect(new Map([...CALL_COUNT_LIMITS].sort())).toEqual(new Map([...converted].sort()));
});

test.each<[string, string | undefined, boolean]>([
  ['absent', undefined, true],
  ['empty (read as absent)', '', true],
  ['zero', '0', true],
  ['the largest exact UInt64 read through Float64', '9007199254740991', true],
  ['one more', '9007199254740992', false],
  ['negative', '-5', false],
  ['a fraction', '12.7', false],
  ['an exponent', '1e+21', false],
  ['words', 'lots', false],
])('a token count %s: stored %s', (_name, text, stored) => {
  expect(callValueProblem('gen_ai.usage.input_tokens', text) === undefined).toBe(stored);
});

test('each column has its own limit; attributes that are not counts are not checked', () => {
  expect(callValueProblem('llm.retries', '65535')).toBeUndefined();
  expect(callValueProblem('llm.retries', '65536')).toBe('attribute llm.retries "65536" is not a count llm_calls can hold (a whole number from 0 to 65535)');
  expect(callValueProblem('llm.stream.chunks', '4294967296')).toBeDefined();
  expect(callValueProblem('gen_ai.request.model', '-5')).toBeUndefined();
});

test('the durations are exactly the attributes the current llm_calls view reads as a time', () => {
  const view = schemaDdl({ database: 'otel' }).filter((s) => s.includes('llm_calls_mv')).at(-1)!;
  const times = [...view.matchAll(/SpanAttributes\['([^']+)'\]/g)].map(([, key]) => key!).filter((key) => key.endsWith('_ms') || key.endsWith('time_to_first_chunk'));
  expect([...CALL_DURATION_FLOORS.keys()].sort()).toEqual([...new Set(times)].sort());
});

test.each<[string, string, string | undefined, boolean]>([
  ['absent', 'llm.ttft_ms', undefined, true],
  ['zero', 'llm.ttft_ms', '0', true],
  ['minus zero', 'llm.queue_ms', '-0', true],
  ['a fraction', 'llm.ttft_ms', '1500.125', true],
  ['an exponent', 'llm.decode_ms', '1e+21', true],
  ['seconds', 'gen_ai.response.time_to_first_chunk', '0.000001', true],
  ['a prefill a microsecond below zero (three rounded values)', 'llm.prefill_ms', '-0.001', true],
  ['a prefill below that', 'llm.prefill_ms', '-0.002', false],
  ['negative', 'llm.ttft_ms', '-5000', false],
  ['negative seconds', 'gen_ai.response.time_to_first_chunk', '-3.5', false],
  ['NaN as the Collector writes it', 'llm.decode_ms', 'json: unsupported value: NaN', false],
  ['infinite as the Collector writes it', 'llm.stream.gap_max_ms', 'json: unsupported value: +Inf', false],
  ['words', 'llm.queue_ms', 'fast', false],
])('a duration %s: stored %s', (_name, key, text, stored) => {
  expect(callValueProblem(key, text) === undefined).toBe(stored);
});

test('a refused duration is named with its floor', () => {
  expect(callValueProblem('llm.ttft_ms', '-5000')).toBe('attribute llm.ttft_ms "-5000" is not a duration (a finite number from 0 on)');
});
