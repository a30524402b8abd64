// Where benchmark results live: one JSON file per benchmark under bench/results/.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
const RESULTS_DIR = join(ROOT, 'bench/results');

export async function writeResult(name: string, data: object): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const body = { benchmark: name, finishedAt: new Date().toISOString(), argv: process.argv.slice(2), ...data };
  await writeFile(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(body, null, 2)}\n`);
  console.log(`wrote bench/results/${name}.json`);
}

export async function readResult<T>(name: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(join(RESULTS_DIR, `${name}.json`), 'utf8')) as T;
  } catch {
    return null;
  }
}
