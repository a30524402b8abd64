import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { mergePrices, PRICE_TABLE, type ModelPrice } from './prices.ts';

const usd = (v: number | undefined) => (v === undefined ? '—' : `$${v}`);

/** The table as docs/cost.md shows it. */
function priceTableMarkdown(prices: readonly ModelPrice[]): string {
  const rows = prices.map((p) => {
    const long = p.longContext
      ? `> ${p.longContext.aboveInputTokens.toLocaleString('en-US')} input: ${usd(p.longContext.input)} in / ${usd(p.longContext.output)} out`
      : '—';
    const batch = p.batch ? `${usd(p.batch.input)} / ${usd(p.batch.output)}` : '—';
    return `| \`${p.model}\` | ${p.provider} | ${usd(p.input)} | ${usd(p.cacheRead)} | ${usd(p.cacheWrite5m)} | ${usd(p.cacheWrite1h)} | ${usd(p.output)} | ${usd(p.reasoning)} | ${long} | ${batch} | ${p.source}, ${p.asOf} |`;
  });
  return [
    '| model | provider | input | cached input (read) | cache write 5 m | cache write 1 h | output | reasoning | long context | batch in / out | source, read on |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

describe('price table', () => {
  it('is the table docs/cost.md shows', async () => {
    const doc = await readFile(new URL('../../../docs/cost.md', import.meta.url), 'utf8');
    expect(doc).toContain(priceTableMarkdown(PRICE_TABLE));
  });

  it('dates and sources every row, with one row per model', () => {
    for (const p of PRICE_TABLE) {
      expect(p.source, p.model).toMatch(/^https:\/\//);
      expect(p.asOf, p.model).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.input).toBeGreaterThan(0);
      expect(p.output).toBeGreaterThan(0);
    }
    expect(new Set(PRICE_TABLE.map((p) => p.model)).size).toBe(PRICE_TABLE.length);
  });

  it('merges configured rows over the shipped ones', () => {
    const mine: ModelPrice = { model: 'gpt-4o', provider: 'openai', input: 1, output: 2, source: 'cfg', asOf: '' };
    const extra: ModelPrice = { model: 'x', provider: '', input: 1, output: 1, source: 'cfg', asOf: '' };
    const merged = mergePrices(PRICE_TABLE, [mine, extra]);
    expect(merged.map((p) => p.model)).toEqual([...PRICE_TABLE.map((p) => p.model), 'x']);
    expect(merged.find((p) => p.model === 'gpt-4o')).toBe(mine);
  });
});
