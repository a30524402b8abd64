// The HTML report as a browser draws it: headless Chromium (Debian's chromium; .ci/run installs
// it) runs the report's scripts and dumps the DOM. Where chromium is not on PATH the test is
// skipped, with the reason printed.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { JSDOM } from 'jsdom';
import type { TestContext } from 'vitest';

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** The document of `htmlPath` once headless Chromium has run its scripts; skips `ctx` without chromium. */
export async function renderInChromium(ctx: TestContext, htmlPath: string) {
  const chromium = await onPath('chromium');
  if (!chromium) {
    const reason = 'skipping HTML render check: chromium not found on PATH (.ci/run installs it)';
    console.warn(reason);
    ctx.skip(reason);
  }
  const { stdout } = await promisify(execFile)(
    chromium!,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${await mkdtemp(join(tmpdir(), 'chromium-'))}`,
      '--virtual-time-budget=5000', '--dump-dom', `file://${htmlPath}`],
    { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
  );
  return new JSDOM(stdout).window.document;
}
