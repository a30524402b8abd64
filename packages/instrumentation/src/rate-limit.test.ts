import { expect, it } from 'vitest';
import { RawHeaders } from './response-reader.ts';
import { parseResetSeconds, parseRetryAfterSeconds, rateLimitAttributes, rateLimitHeaders, retryAfterSeconds } from './rate-limit.ts';

it('parses OpenAI reset durations', () => {
  expect(parseResetSeconds('1s')).toBe(1);
  expect(parseResetSeconds('6m0s')).toBe(360);
  expect(parseResetSeconds('12ms')).toBeCloseTo(0.012, 6);
  expect(parseResetSeconds('1h2m3.5s')).toBeCloseTo(3723.5, 6);
  expect(parseResetSeconds('17')).toBe(17);
  expect(parseResetSeconds('soon')).toBeUndefined();
  expect(parseResetSeconds('5s later')).toBeUndefined();
});

it('parses retry-after as seconds or an HTTP date', () => {
  expect(parseRetryAfterSeconds('2')).toBe(2);
  expect(parseRetryAfterSeconds(new Date(1_000_000 + 3000).toUTCString(), 1_000_000)).toBeCloseTo(3, 0);
  expect(parseRetryAfterSeconds(undefined)).toBeUndefined();
  expect(parseRetryAfterSeconds('never')).toBeUndefined();
});

it('prefers retry-after-ms (OpenAI) to retry-after, as the SDKs do', () => {
  expect(retryAfterSeconds(new Map([['retry-after-ms', '1500']]))).toBe(1.5);
  expect(retryAfterSeconds(new Map([['retry-after-ms', '300'], ['retry-after', '1']]))).toBe(0.3);
  expect(retryAfterSeconds(new Map([['retry-after-ms', '20'], ['retry-after', '20']]))).toBe(0.02);
  expect(retryAfterSeconds(new Map([['retry-after-ms', '12.5']]))).toBe(0.0125);
  expect(retryAfterSeconds(new Map([['retry-after-ms', '0']]))).toBe(0);
  // Not a number: retry-after decides.
  expect(retryAfterSeconds(new Map([['retry-after-ms', 'soon'], ['retry-after', '2']]))).toBe(2);
  // A negative wait is none the SDKs take (they back off on their own): not reported, nor is
  // `retry-after` read after a negative `retry-after-ms`.
  expect(retryAfterSeconds(new Map([['retry-after', '-10']]))).toBeUndefined();
  expect(retryAfterSeconds(new Map([['retry-after-ms', '-5000'], ['retry-after', '2']]))).toBeUndefined();
  expect(retryAfterSeconds(new Map([['retry-after-ms', ' '], ['retry-after', '2']]))).toBe(2);
  expect(retryAfterSeconds(new Map([['retry-after', new Date(1_000_000 + 4000).toUTCString()]]), 1_000_000)).toBeCloseTo(4, 0);
  expect(retryAfterSeconds(new Map([['retry-after', '7']]))).toBe(7);
  expect(retryAfterSeconds(new Map())).toBeUndefined();
  expect(retryAfterSeconds(new Map([['retry-after-ms', 'soon']]))).toBeUndefined();
});

it('reports limits, remaining, reset and the lowest headroom', () => {
  const headers = new Map([
    ['x-ratelimit-limit-requests', '500'],
    ['x-ratelimit-remaining-requests', '499'],
    ['x-ratelimit-reset-requests', '120ms'],
    ['x-ratelimit-limit-tokens', '30000'],
    ['x-ratelimit-remaining-tokens', '6000'],
    ['x-ratelimit-reset-tokens', '6m0s'],
  ]);
  expect(rateLimitAttributes(headers)).toEqual({
    'llm.ratelimit.requests.limit': 500,
    'llm.ratelimit.requests.remaining': 499,
    'llm.ratelimit.requests.reset_s': 0.12,
    'llm.ratelimit.tokens.limit': 30000,
    'llm.ratelimit.tokens.remaining': 6000,
    'llm.ratelimit.tokens.reset_s': 360,
    'llm.ratelimit.headroom': 0.2,
  });
  expect(rateLimitAttributes(new Map())).toEqual({});
});

it('reads Anthropic headers, with RFC 3339 resets relative to their arrival', () => {
  const now = Date.parse('2026-11-23T10:00:00Z');
  const headers = new Map([
    ['anthropic-ratelimit-requests-limit', '50'],
    ['anthropic-ratelimit-requests-remaining', '45'],
    ['anthropic-ratelimit-requests-reset', '2026-11-23T10:00:06Z'],
    ['anthropic-ratelimit-tokens-limit', '10000'],
    ['anthropic-ratelimit-tokens-remaining', '2500'],
    ['anthropic-ratelimit-tokens-reset', '2026-11-23T10:00:45.5Z'],
    ['anthropic-ratelimit-input-tokens-limit', '8000'],
    ['anthropic-ratelimit-input-tokens-remaining', '4000'],
  ]);
  expect(rateLimitHeaders(headers)).toEqual(headers);
  expect(rateLimitHeaders(new Map([['request-id', 'x']]))).toBeUndefined();
  expect(rateLimitAttributes(headers, now)).toEqual({
    'llm.ratelimit.requests.limit': 50,
    'llm.ratelimit.requests.remaining': 45,
    'llm.ratelimit.requests.reset_s': 6,
    'llm.ratelimit.tokens.limit': 10000,
    'llm.ratelimit.tokens.remaining': 2500,
    'llm.ratelimit.tokens.reset_s': 45.5,
    'llm.ratelimit.input_tokens.limit': 8000,
    'llm.ratelimit.input_tokens.remaining': 4000,
    'llm.ratelimit.headroom': 0.25,
  });
  // Arrival times are epoch ms with a fraction (time origin + performance.now()): the reset is
  // rounded to the microsecond, as every other time attribute, not 5.1681230068206787.
  const arrival = now + 831.876993179321;
  const reset = rateLimitAttributes(new Map([['anthropic-ratelimit-requests-reset', '2026-11-23T10:00:06Z']]), arrival)?.['llm.ratelimit.requests.reset_s'];
  expect(reset).toBe(5.168123);
});

it('reports no negative limit or count left', () => {
  const attrs = rateLimitAttributes(new Map([['x-ratelimit-limit-requests', '-1'], ['x-ratelimit-remaining-requests', '-3'], ['x-ratelimit-limit-tokens', '100'], ['x-ratelimit-remaining-tokens', '40']]));
  expect(attrs).toEqual({ 'llm.ratelimit.tokens.limit': 100, 'llm.ratelimit.tokens.remaining': 40, 'llm.ratelimit.headroom': 0.4 });
});

it('raw response headers (as the taps hand them over) are looked up by lower-case name, repeats joined; only rate-limit headers are kept', () => {
  const raw = new RawHeaders([
    Buffer.from('Content-Type'),
    Buffer.from('application/json'),
    Buffer.from('X-RateLimit-Limit-Requests'),
    Buffer.from('500'),
    'retry-after',
    '2',
    Buffer.from('Set-Cookie'),
    Buffer.from('a=1'),
    'set-cookie',
    'b=2',
  ]);
  expect(raw.get('content-type')).toBe('application/json');
  expect(raw.get('set-cookie')).toBe('a=1, b=2');
  expect(raw.get('Content-Type')).toBeUndefined();
  expect(raw.get('x-request-id')).toBeUndefined();
  expect([...raw.keys()]).toEqual(['content-type', 'x-ratelimit-limit-requests', 'retry-after', 'set-cookie']);
  expect(retryAfterSeconds(raw)).toBe(2);
  expect(rateLimitHeaders(raw)).toEqual(new Map([['x-ratelimit-limit-requests', '500']]));
});
