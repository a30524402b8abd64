// `llm-prism slo generate` end to end: the real CLI process writes the files generateFiles() makes,
// and a bad config fails with the path of the bad field.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TTFT_DEADLINE_MS, generateFiles, loadSloConfig } from '@llm-prism/grafana';
import { DEFAULT_TTFT_DEADLINE_MS as INSTRUMENTATION_DEADLINE_MS } from '@llm-prism/instrumentation';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/src/bin.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llm-prism-slo-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('llm-prism slo generate', () => {
  it('writes every dashboard, provisioning and alert file for the config', async () => {
    const out = join(dir, 'grafana');
    const { stdout, stderr } = await run(process.execPath, [BIN, 'slo', 'generate', '--config', join(ROOT, 'packages/demo/llm-prism.slo.yaml'), '--out', out], { timeout: 30_000 });
    const expected = generateFiles(await loadSloConfig(join(ROOT, 'packages/demo/llm-prism.slo.yaml')));
    expect(stdout).toContain(`${expected.size} files`);
    expect(stderr).toBe('');
    for (const [path, content] of expected) expect(await readFile(join(out, path), 'utf8')).toBe(content);
  });

  it('warns about a TTFT threshold above the instrumentation\'s default TTFT deadline (hangs would count only once they end)', async () => {
    expect(DEFAULT_TTFT_DEADLINE_MS).toBe(INSTRUMENTATION_DEADLINE_MS);
    const slow = join(dir, 'slow.slo.yaml');
    await writeFile(
      slow,
      'window: 28d\nslos:\n  - service: chat\n    ttft: { thresholdMs: 60000, objective: 0.95 }\n    completion: { thresholdMs: 200000, objective: 0.99 }\n  - service: reasoner\n    ttft: { thresholdMs: 90000, objective: 0.9 }\n    completion: { thresholdMs: 200000, objective: 0.99 }\n',
    );
    const { stderr } = await run(process.execPath, [BIN, 'slo', 'generate', '--config', slow, '--out', join(dir, 'slow')], { timeout: 30_000 });
    expect(stderr).toBe(
      "warning: slos[1].ttft.thresholdMs: 90000 ms is above the instrumentation's default TTFT deadline (60000 ms), so a hang counts in this SLO only once it ends; set LLM_PRISM_TTFT_DEADLINE_MS (or ttftDeadlineMs) to at least 90000 in reasoner\n",
    );
  });

  it('exits non-zero naming the bad field of an invalid config', async () => {
    const bad = join(dir, 'bad.slo.yaml');
    await writeFile(bad, 'window: 28d\nslos:\n  - service: chat\n    ttft: { thresholdMs: 1234, objective: 0.95 }\n    completion: { thresholdMs: 20000, objective: 0.99 }\n');
    const failure = await run(process.execPath, [BIN, 'slo', 'generate', '--config', bad, '--out', join(dir, 'never')], { timeout: 30_000 }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('slos[0].ttft.thresholdMs: must be a latency on the bucket grid');
  });
});
