import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh, empty chDB data directory under the OS temp dir (for tests; one per process). */
export function tempDataDir(prefix = 'llm-prism-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
