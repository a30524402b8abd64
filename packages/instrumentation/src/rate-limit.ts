/** Provider rate-limit headers → `llm.ratelimit.*` attributes. */
import type { Attributes } from '@opentelemetry/api';

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
  if (value.trim() !== '' && Number.isFinite(seconds)) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

function numberHeader(headers: ReadonlyMap<string, string>, name: string): number | undefined {
  const value = headers.get(name)?.trim();
  if (!value) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` → attributes, with the lowest headroom. */
export function rateLimitAttributes(headers: ReadonlyMap<string, string>): Attributes {
  const attrs: Attributes = {};
  const headrooms: number[] = [];
  for (const kind of ['requests', 'tokens']) {
    const limit = numberHeader(headers, `x-ratelimit-limit-${kind}`);
    const remaining = numberHeader(headers, `x-ratelimit-remaining-${kind}`);
    const resetHeader = headers.get(`x-ratelimit-reset-${kind}`);
    const reset = resetHeader === undefined ? undefined : parseResetSeconds(resetHeader.trim());
    if (limit !== undefined) attrs[`llm.ratelimit.${kind}.limit`] = limit;
    if (remaining !== undefined) attrs[`llm.ratelimit.${kind}.remaining`] = remaining;
    if (reset !== undefined) attrs[`llm.ratelimit.${kind}.reset_s`] = reset;
    if (limit !== undefined && remaining !== undefined && limit > 0) headrooms.push(Math.min(1, Math.max(0, remaining / limit)));
  }
  if (headrooms.length > 0) attrs['llm.ratelimit.headroom'] = Math.min(...headrooms);
  return attrs;
}
