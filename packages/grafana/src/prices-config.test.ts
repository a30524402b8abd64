import { describe, expect, it } from 'vitest';
import { PRICE_TABLE } from '@llm-prism/storage';
import { parseSloConfig } from './config.ts';
import { configIssues } from '../test/config-issues.ts';

const base = `
window: 28d
slos:
  - service: chat
    ttft: { thresholdMs: 1500, objective: 0.95 }
    completion: { thresholdMs: 20000, objective: 0.99 }
`;


describe('prices: in the SLO config', () => {
  it('without prices: uses the shipped table', () => {
    expect(parseSloConfig(base).prices).toEqual(PRICE_TABLE);
  });

  it('replaces a shipped row of the same model and adds new models after the table', () => {
    const { prices } = parseSloConfig(`${base}prices:
  - { model: gpt-4o, provider: openai, input: 2, output: 8, cacheRead: 1, asOf: 2026-12-01 }
  - model: my-finetune
    input: 3
    output: 12
    longContext: { aboveInputTokens: 128000, input: 6 }
    batch: { input: 1.5, output: 6 }
`);
    expect(prices).toHaveLength(PRICE_TABLE.length + 1);
    expect(prices.find((p) => p.model === 'gpt-4o')).toEqual({ model: 'gpt-4o', provider: 'openai', input: 2, output: 8, cacheRead: 1, source: '<config>', asOf: '2026-12-01' });
    expect(prices.filter((p) => p.model === 'gpt-4o')).toHaveLength(1);
    expect(prices.at(-1)).toEqual({
      model: 'my-finetune',
      provider: '',
      input: 3,
      output: 12,
      longContext: { aboveInputTokens: 128000, input: 6 },
      batch: { input: 1.5, output: 6 },
      source: '<config>',
      asOf: '',
    });
  });

  it('names the path of every bad price field', () => {
    expect(
      configIssues(`${base}prices:
  - { model: a, input: -1, output: free, cacheRaed: 1 }
  - { input: 1 }
  - { model: a, input: 1, output: 2, longContext: { input: 2 }, batch: { input: 1 } }
`),
    ).toEqual([
      'prices[0].cacheRaed: unknown field (expected one of model, provider, input, output, cacheRead, cacheWrite5m, cacheWrite1h, reasoning, longContext, batch, source, asOf)',
      'prices[0].input: must be a price in USD per million tokens (a number ≥ 0), got -1',
      'prices[0].output: must be a price in USD per million tokens (a number ≥ 0), got "free"',
      'prices[1].model: required (the model name as sent, e.g. gpt-4o)',
      'prices[1].output: required (USD per million tokens)',
      'prices[2].model: duplicate price row for "a"',
      'prices[2].longContext.aboveInputTokens: must be a whole number of input tokens > 0, got undefined',
      'prices[2].batch.output: required (USD per million tokens)',
    ]);
    expect(configIssues(`${base}prices: { gpt-4o: 2 }\n`)).toEqual(['prices: must be a list of {model, input, output, …} rows']);
  });
});
