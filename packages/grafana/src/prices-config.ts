// `prices:` of llm-prism.slo.yaml: rows that replace (same model) or extend the shipped price table
// (@llm-prism/storage prices.ts), validated field by field with the path of each bad one.
import type { ModelPrice, TokenPrices } from '@llm-prism/storage';
import { checkKeys, isRecord, optionalString } from './config-fields.ts';

const PRICE_FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite5m', 'cacheWrite1h', 'reasoning'] as const satisfies readonly (keyof TokenPrices)[];
const ROW_FIELDS = ['model', 'provider', ...PRICE_FIELDS, 'longContext', 'batch', 'source', 'asOf'];

/** A USD-per-million-tokens price: a finite number ≥ 0; absent stays absent (unpriced, never 0). */
function price(v: Record<string, unknown>, key: string, path: string, issues: string[], required: boolean): number | undefined {
  const value = v[key];
  if (value === undefined) {
    if (required) issues.push(`${path}.${key}: required (USD per million tokens)`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    issues.push(`${path}.${key}: must be a price in USD per million tokens (a number ≥ 0), got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

function tokenPrices(v: Record<string, unknown>, path: string, issues: string[], required: boolean): Partial<TokenPrices> {
  const out: Partial<TokenPrices> = {};
  for (const field of PRICE_FIELDS) {
    const p = price(v, field, path, issues, required && (field === 'input' || field === 'output'));
    if (p !== undefined) out[field] = p;
  }
  return out;
}

/** Validates `prices:` (absent → no rows); pushes one issue per bad field. */
export function parsePrices(raw: unknown, source: string, issues: string[]): ModelPrice[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push('prices: must be a list of {model, input, output, …} rows');
    return [];
  }
  const rows: ModelPrice[] = [];
  raw.forEach((entry: unknown, i: number) => {
    const path = `prices[${i}]`;
    if (!isRecord(entry)) {
      issues.push(`${path}: must be a mapping with model, input and output`);
      return;
    }
    checkKeys(entry, path, ROW_FIELDS, issues);
    const model = optionalString(entry, 'model', path, issues);
    if (entry.model === undefined) issues.push(`${path}.model: required (the model name as sent, e.g. gpt-4o)`);
    if (model !== undefined && rows.some((r) => r.model === model)) issues.push(`${path}.model: duplicate price row for ${JSON.stringify(model)}`);
    const row: ModelPrice = {
      model: model ?? '',
      provider: optionalString(entry, 'provider', path, issues) ?? '',
      input: 0,
      output: 0,
      ...tokenPrices(entry, path, issues, true),
      source: optionalString(entry, 'source', path, issues) ?? source,
      asOf: optionalString(entry, 'asOf', path, issues) ?? '',
    };
    const long = entry.longContext;
    if (long !== undefined) {
      if (!isRecord(long)) issues.push(`${path}.longContext: must be a mapping with aboveInputTokens and the tier's prices`);
      else {
        checkKeys(long, `${path}.longContext`, ['aboveInputTokens', ...PRICE_FIELDS], issues);
        const above = long.aboveInputTokens;
        if (typeof above !== 'number' || !Number.isInteger(above) || above <= 0) {
          issues.push(`${path}.longContext.aboveInputTokens: must be a whole number of input tokens > 0, got ${JSON.stringify(above)}`);
        } else row.longContext = { aboveInputTokens: above, ...tokenPrices(long, `${path}.longContext`, issues, false) };
      }
    }
    const batch = entry.batch;
    if (batch !== undefined) {
      if (!isRecord(batch)) issues.push(`${path}.batch: must be a mapping with input and output`);
      else {
        checkKeys(batch, `${path}.batch`, ['input', 'output'], issues);
        const input = price(batch, 'input', `${path}.batch`, issues, true);
        const output = price(batch, 'output', `${path}.batch`, issues, true);
        if (input !== undefined && output !== undefined) row.batch = { input, output };
      }
    }
    rows.push(row);
  });
  return rows;
}
