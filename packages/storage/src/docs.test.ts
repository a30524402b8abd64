import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { schemaDdl } from './migrations.ts';

test('docs/clickhouse.md shows the exact DDL migrate runs', async () => {
  const doc = await readFile(new URL('../../../docs/clickhouse.md', import.meta.url), 'utf8');
  const missing = schemaDdl({ database: 'otel' }).filter((statement) => !doc.includes(`${statement};`));
  expect(missing).toEqual([]);
});
