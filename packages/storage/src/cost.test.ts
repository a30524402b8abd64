// The model matching of the cost queries, run in chDB: which table row prices a call.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { priceModelSql } from './cost.ts';
import { PRICE_TABLE, type ModelPrice } from './prices.ts';
import { openStorage, type Storage } from './storage.ts';
import { tempDataDir } from './testing.ts';

let storage: Storage;
let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDataDir();
  storage = await openStorage({ dataDir });
});
afterAll(async () => {
  await storage.close();
  await rm(dataDir, { recursive: true, force: true });
});

const table: ModelPrice[] = [...PRICE_TABLE, { model: 'gpt-4o-2024-05-13', provider: 'openai', input: 5, output: 15, source: 'test', asOf: '2026-12-01' }];

async function priced(response: string, request = ''): Promise<string> {
  const rs = await storage.client.query({
    query: `SELECT ${priceModelSql(table)} AS m FROM (SELECT {r:String} AS ResponseModel, {q:String} AS RequestModel)`,
    query_params: { r: response, q: request },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ m: string }>())[0]!.m;
}

describe('which row prices a call', () => {
  it('maps dated snapshots and Gemini resource names to their family, an exact row first', async () => {
    expect(await priced('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(await priced('gpt-4o-2024-05-13')).toBe('gpt-4o-2024-05-13');
    expect(await priced('claude-sonnet-5-20260115')).toBe('claude-sonnet-5');
    expect(await priced('claude-opus-4-5@20251101')).toBe('claude-opus-4-5');
    expect(await priced('models/gemini-2.5-flash')).toBe('gemini-2.5-flash');
  });

  it('falls back to the request model, and leaves other names unpriced rather than pricing a neighbour', async () => {
    expect(await priced('my-azure-deployment', 'gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(await priced('', 'gpt-4.1')).toBe('gpt-4.1');
    expect(await priced('gpt-4o-mini-tts')).toBe('');
    expect(await priced('gpt-4o-realtime', 'unknown')).toBe('');
  });
});
