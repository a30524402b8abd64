/** Provider rate-limit headers → `llm.ratelimit.*` attributes. */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_LLM_RATELIMIT_HEADROOM,
  ATTR_LLM_RATELIMIT_INPUT_TOKENS_LIMIT,
  ATTR_LLM_RATELIMIT_INPUT_TOKENS_REMAINING,
  ATTR_LLM_RATELIMIT_INPUT_TOKENS_RESET_S,
  ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_LIMIT,
  ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_REMAINING,
  ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_RESET_S,
  ATTR_LLM_RATELIMIT_REQUESTS_LIMIT,
  ATTR_LLM_RATELIMIT_REQUESTS_REMAINING,
  ATTR_LLM_RATELIMIT_REQUESTS_RESET_S,
  ATTR_LLM_RATELIMIT_TOKENS_LIMIT,
  ATTR_LLM_RATELIMIT_TOKENS_REMAINING,
  ATTR_LLM_RATELIMIT_TOKENS_RESET_S,
} from './semconv.ts';
import type { ResponseHeaders } from './internal-types.ts';
import { RATE_LIMIT_SCHEMES } from './formats/index.ts';
import { secondsOf } from './stats.ts';

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/** OpenAI reset durations (`1s`, `6m0s`, `12ms`, `1h2m3.5s`) or plain seconds → seconds. */
export function parseResetSeconds(value: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
}

/** `retry-after` (seconds or HTTP date) → seconds, as the SDKs read it. */
export function parseRetryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  // A negative wait is no wait the SDKs take (they back off on their own): not reported.
  if (value.trim() !== '' && Number.isFinite(seconds)) return seconds >= 0 ? seconds : undefined;
  return secondsUntil(value, now);
}

/** Seconds from `now` (epoch ms) to the date `value` names, 0 when it is past; undefined when it names none. */
function secondsUntil(value: string, now: number): number | undefined {
  const date = Date.parse(value);
  // Rounded to the microsecond: `now` is an epoch time with a fraction, whose float noise the difference keeps.
  return Number.isNaN(date) ? undefined : secondsOf(Math.max(0, date - now));
}

/**
 * The wait a response asks for, in seconds: `retry-after-ms` (milliseconds, sent by OpenAI) wins
 * when it holds a number, else `retry-after` (seconds or HTTP date), as the OpenAI and Anthropic
 * SDKs read them.
 */
export function retryAfterSeconds(headers: ResponseHeaders, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms) {
    const n = Number(ms);
    // As the SDKs read it: a number here decides, and a negative one is no wait (nor is `retry-after` read then).
    if (Number.isFinite(n)) return n >= 0 ? n / 1000 : undefined;
  }
  return parseRetryAfterSeconds(headers.get('retry-after'), now);
}

/** A limit or a count left: a number ≥ 0, else not reported. */
function numberHeader(headers: ResponseHeaders, name: string): number | undefined {
  const value = headers.get(name)?.trim();
  if (!value) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Limit kinds as the providers name them in headers → their attributes. */
const KINDS: Array<[header: string, attributes: { limit: string; remaining: string; reset: string }]> = [
  ['requests', { limit: ATTR_LLM_RATELIMIT_REQUESTS_LIMIT, remaining: ATTR_LLM_RATELIMIT_REQUESTS_REMAINING, reset: ATTR_LLM_RATELIMIT_REQUESTS_RESET_S }],
  ['tokens', { limit: ATTR_LLM_RATELIMIT_TOKENS_LIMIT, remaining: ATTR_LLM_RATELIMIT_TOKENS_REMAINING, reset: ATTR_LLM_RATELIMIT_TOKENS_RESET_S }],
  ['input-tokens', { limit: ATTR_LLM_RATELIMIT_INPUT_TOKENS_LIMIT, remaining: ATTR_LLM_RATELIMIT_INPUT_TOKENS_REMAINING, reset: ATTR_LLM_RATELIMIT_INPUT_TOKENS_RESET_S }],
  ['output-tokens', { limit: ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_LIMIT, remaining: ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_REMAINING, reset: ATTR_LLM_RATELIMIT_OUTPUT_TOKENS_RESET_S }],
];

const sends = (headers: ResponseHeaders, prefix: string): boolean => {
  for (const name of headers.keys()) if (name.startsWith(prefix)) return true;
  return false;
};

/**
 * The response's rate-limit headers of the wire formats' schemes (formats/), copied (kept until
 * the call ends, for rateLimitAttributes); undefined when it carries none.
 */
export function rateLimitHeaders(headers: ResponseHeaders): ReadonlyMap<string, string> | undefined {
  let found: Map<string, string> | undefined;
  for (const name of headers.keys()) {
    if (!RATE_LIMIT_SCHEMES.some((scheme) => name.startsWith(scheme.prefix))) continue;
    const value = headers.get(name);
    if (value !== undefined) (found ??= new Map()).set(name, value);
  }
  return found;
}

/** A reset header: a duration (OpenAI), plain seconds, or an RFC 3339 time (Anthropic) relative to `now`. */
function resetSeconds(value: string, now: number): number | undefined {
  return parseResetSeconds(value) ?? secondsUntil(value, now);
}

/**
 * Rate-limit headers of the wire formats' schemes (OpenAI `x-ratelimit-*`, Anthropic
 * `anthropic-ratelimit-*`) → attributes, with the lowest headroom; a format's own scheme wins over
 * a generic one. `now` (epoch ms) is when the headers arrived, for Anthropic's absolute resets.
 */
export function rateLimitAttributes(headers: ResponseHeaders, now = Date.now()): Attributes {
  const attrs: Attributes = {};
  const headrooms: number[] = [];
  const sent = RATE_LIMIT_SCHEMES.filter((scheme) => sends(headers, scheme.prefix));
  const scheme = sent.find((s) => !s.generic) ?? sent[0];
  if (!scheme) return attrs;
  const name = scheme.header;
  for (const [kind, attribute] of KINDS) {
    const limit = numberHeader(headers, name('limit', kind));
    const remaining = numberHeader(headers, name('remaining', kind));
    const resetHeader = headers.get(name('reset', kind));
    const reset = resetHeader === undefined ? undefined : resetSeconds(resetHeader.trim(), now);
    if (limit !== undefined) attrs[attribute.limit] = limit;
    if (remaining !== undefined) attrs[attribute.remaining] = remaining;
    if (reset !== undefined) attrs[attribute.reset] = reset;
    if (limit !== undefined && remaining !== undefined && limit > 0) headrooms.push(Math.min(1, Math.max(0, remaining / limit)));
  }
  if (headrooms.length > 0) attrs[ATTR_LLM_RATELIMIT_HEADROOM] = Math.min(...headrooms);
  return attrs;
}
