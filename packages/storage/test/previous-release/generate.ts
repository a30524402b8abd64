// Writes release-6641a80.tar.gz with the PREVIOUS release's storage code (see README.md):
//   npx node packages/storage/test/previous-release/generate.ts <old checkout> <output .tar.gz>
// The old package is imported from <old checkout>, so its migrations (1-3) and views store the rows.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BATCHES } from './spans.ts';

const [checkout, output] = process.argv.slice(2);
if (checkout === undefined || output === undefined) throw new Error('usage: generate.ts <old checkout> <output .tar.gz>');
const old = (await import(pathToFileURL(join(resolve(checkout), 'packages/storage/src/index.ts')).href)) as {
  openStorage(opts: { dataDir: string }): Promise<{ migrate(): Promise<number[]>; insertSpans(rows: unknown[]): Promise<void>; close(): Promise<void> }>;
};
const parent = await mkdtemp(join(tmpdir(), 'llm-prism-prev-'));
const storage = await old.openStorage({ dataDir: join(parent, 'data') });
for (const batch of BATCHES) await storage.insertSpans(batch);
await storage.close();
execFileSync('tar', ['-czf', resolve(output), '-C', parent, 'data']);
await rm(parent, { recursive: true, force: true });
console.log(`wrote ${output}`);
