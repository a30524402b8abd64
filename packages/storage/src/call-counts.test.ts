import { expect, test } from 'vitest';
import { CALL_COUNT_LIMITS, callCountProblem } from './call-counts.ts';
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
  expect(callCountProblem('gen_ai.usage.input_tokens', text) === undefined).toBe(stored);
});

test('each column has its own limit; attributes that are not counts are not checked', () => {
  expect(callCountProblem('llm.retries', '65535')).toBeUndefined();
  expect(callCountProblem('llm.retries', '65536')).toBe('attribute llm.retries "65536" is not a count llm_calls can hold (a whole number from 0 to 65535)');
  expect(callCountProblem('llm.stream.chunks', '4294967296')).toBeDefined();
  expect(callCountProblem('llm.queue_ms', '-5')).toBeUndefined();
});
