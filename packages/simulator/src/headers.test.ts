import { describe, expect, it } from 'vitest';
import { formatDuration, rateLimitHeaders } from './headers.ts';

describe('rate-limit header values', () => {
  it.each([
    [12, '12ms'],
    [1500, '1.5s'],
    [6000, '6s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
  ])('formats %i ms as %s, as OpenAI writes resets', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('sends nothing for Gemini or without limits', () => {
    expect(rateLimitHeaders('gemini', { requestsLimit: 10 }, 0)).toEqual({});
    expect(rateLimitHeaders('openai', undefined, 0)).toEqual({});
  });

  it('fills a missing remaining from the limit (nothing used, reset now)', () => {
    expect(rateLimitHeaders('openai', { tokensLimit: 100 }, 0)).toEqual({
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '100',
      'x-ratelimit-reset-tokens': '0ms',
    });
  });
});
