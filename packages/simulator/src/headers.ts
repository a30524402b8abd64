import { randomBytes } from 'node:crypto';
import type { Provider, Scenario } from './types.ts';

export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

/** Go-style duration as OpenAI writes its resets: `12ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatDuration(ms: number): string {
  const rounded = Math.round(ms);
  if (rounded < 1000) return `${rounded}ms`;
  const h = Math.floor(rounded / 3_600_000);
  const m = Math.floor((rounded % 3_600_000) / 60_000);
  const s = Number(((rounded % 60_000) / 1000).toFixed(3));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** RFC 3339 time without fractional seconds, as Anthropic writes its resets. */
function rfc3339(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Static rate-limit headers from the scenario. A window refills `limit` per minute, so the reset
 * is the time to win back what was used: (limit − remaining) / limit × 60 s.
 */
export function rateLimitHeaders(provider: Provider, limits: Scenario['rateLimit'], now: number): Record<string, string> {
  if (!limits || provider === 'gemini') return {};
  const headers: Record<string, string> = {};
  const windows = [
    ['requests', limits.requestsLimit, limits.requestsRemaining],
    ['tokens', limits.tokensLimit, limits.tokensRemaining],
  ] as const;
  for (const [name, limitIn, remainingIn] of windows) {
    const limit = limitIn ?? remainingIn;
    if (limit === undefined) continue;
    const remaining = remainingIn ?? limit;
    const resetMs = limit > 0 ? ((limit - remaining) / limit) * 60_000 : 0;
    if (provider === 'openai') {
      headers[`x-ratelimit-limit-${name}`] = String(limit);
      headers[`x-ratelimit-remaining-${name}`] = String(remaining);
      headers[`x-ratelimit-reset-${name}`] = formatDuration(resetMs);
    } else {
      headers[`anthropic-ratelimit-${name}-limit`] = String(limit);
      headers[`anthropic-ratelimit-${name}-remaining`] = String(remaining);
      headers[`anthropic-ratelimit-${name}-reset`] = rfc3339(now + resetMs);
    }
  }
  return headers;
}
