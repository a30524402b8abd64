// `llm-prism report` run as a user first runs it in a service directory: no llm-prism.slo.yaml, no
// flags, calls stored in the default embedded data directory (real chDB). Every section but the
// SLOs, exact figures recomputed from the seed, and one line on how to add SLOs.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, test } from 'vitest';
import { CHART_IDS, noSloConfigHint, SLO_CHART_IDS, type ReportData } from '@llm-prism/report';
import { DEFAULT_DATA_DIR, openStorage } from '@llm-prism/storage';
import { renderInChromium } from '../../../report/test/chromium.ts';
import { nearestRank, phaseCalls, prefillOf, seededCallRow, seededTraceId, ttftCalls, type SeededCall } from '../../../report/test/seeded-calls.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));

const calls: SeededCall[] = [
  { service: 'checkout', model: 'gpt-4o-mini', provider: 'openai', ago: 300, outcome: 'success', finish: 'stop', setup: 60, queue: 40, ttft: 300, decode: 500, duration: 900, cache: 'none' },
  { service: 'checkout', model: 'gpt-4o-mini', provider: 'openai', ago: 240, outcome: 'success', finish: 'stop', setup: 3, queue: 60, ttft: 500, decode: 400, duration: 1_000, cache: 'none' },
  { service: 'checkout', model: 'gpt-4o-mini', provider: 'openai', ago: 200, outcome: 'success', finish: 'stop', queue: 100, duration: 1_500, cache: 'none' },
  { service: 'checkout', model: 'gpt-4o', provider: 'openai', ago: 180, outcome: 'truncated', finish: 'length', queue: 70, ttft: 1_200, decode: 3_600, duration: 5_000, cache: 'none' },
  { service: 'search', model: 'claude-sonnet-5', provider: 'anthropic', ago: 120, outcome: 'success', finish: 'end_turn', queue: 30, ttft: 250, decode: 200, duration: 480, cache: 'write', missReason: 'cold' },
  { service: 'search', model: 'claude-sonnet-5', provider: 'anthropic', ago: 60, outcome: 'success', finish: 'end_turn', queue: 20, ttft: 220, decode: 210, duration: 450, cache: 'hit' },
  { service: 'search', model: 'claude-sonnet-5', provider: 'anthropic', ago: 30, outcome: 'error', errorType: 'overloaded_error', queue: 2_900, duration: 3_000, cache: 'none', retries: 2 },
];

const models = [...new Set(calls.map((c) => c.model))];
const expectedAnatomy = (model: string) => {
  const mine = calls.filter((c) => c.model === model);
  const phases = phaseCalls(mine);
  const p = (values: number[]) => [nearestRank(values, 0.5), nearestRank(values, 0.95)] as const;
  return {
    calls: mine.length,
    setup: p(phases.filter((c) => c.setup !== undefined).map((c) => c.setup!)),
    queue: p(phases.map((c) => c.queue)),
    prefill: p(phases.map(prefillOf)),
    ttft: p(ttftCalls(mine).map((c) => c.ttft!)),
    decode: p(phases.filter((c) => c.decode !== undefined).map((c) => c.decode!)),
    total: p(mine.map((c) => c.duration)),
  };
};

/** The user's shell environment, without the variables that would point the CLI elsewhere. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('LLM_PRISM_')) delete env[name];
  return env;
}

const report = (cwd: string, args: string[] = []) =>
  run(process.execPath, [bin, 'report', ...args], { cwd, env: userEnv(), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });

/** A service directory: no llm-prism.slo.yaml, the calls in the default ./.llm-prism/data. */
let serviceDir: string;

beforeAll(async () => {
  serviceDir = await mkdtemp(join(tmpdir(), 'llm-prism-service-'));
  const storage = await openStorage({ dataDir: join(serviceDir, DEFAULT_DATA_DIR) });
  try {
    const now = Date.now();
    await storage.insertSpans(calls.map((c, i) => seededCallRow(c, i, now)));
  } finally {
    await storage.close(); // the CLI opens the same data directory
  }
}, 60_000);

describe('llm-prism report in a directory without llm-prism.slo.yaml', () => {
  test('prints every section but the SLOs, with the stored figures, and says how to add SLOs', async () => {
    const { stdout, stderr } = await report(serviceDir);
    expect(stderr).toBe(`${noSloConfigHint('llm-prism.slo.yaml')}\n`);
    expect(stdout).not.toContain('SLO');
    const lines = stdout.split('\n');
    expect(lines.filter((l) => /^\S/.test(l)).map((l) => l.replace(/ —.*/, ''))).toEqual([
      'LLM Prism report',
      'TTFT anatomy by model (ms, p50 / p95)',
      'Prompt cache',
      'Outcomes (finish reason as sent; error type)',
      'Retries and rate limits',
      'Cost (USD, prices as of the table in docs/cost.md): $0.000000',
      'Slowest calls',
    ]);
    const cells = (first: string) => lines.find((l) => l.trimStart().startsWith(`${first} `))?.trim().split(/\s{2,}/);
    const pair = (v: readonly [number | null, number | null]) => v.map((x) => (x === null ? '—' : String(x))).join(' / ');
    for (const model of models) {
      const a = expectedAnatomy(model);
      expect(cells(model), model).toEqual([model, String(a.calls), pair(a.setup), pair(a.queue), pair(a.prefill), pair(a.ttft), pair(a.decode), pair(a.total)]);
    }
    // Prompt cache: anthropic wrote once and hit once, of two eligible calls.
    expect(cells('anthropic')?.slice(0, 8)).toEqual(['anthropic', '3', '1', '0', '1', '0', '1', '50.0 %']);
    expect(stdout).toContain('anthropic  cold');
    // The slowest call first, by trace id.
    const slowest = calls.indexOf(calls.reduce((a, b) => (b.duration > a.duration ? b : a)));
    expect(lines.find((l) => l.includes(seededTraceId(slowest)))).toMatch(/^\s+5000\s+1200\s+checkout\s+gpt-4o\s+truncated\s/);
  }, 60_000);

  test('--json: slos is null, every other section holds the stored calls', async () => {
    const { stdout, stderr } = await report(serviceDir, ['--json']);
    expect(stderr).toBe(`${noSloConfigHint()}\n`);
    const data = JSON.parse(stdout) as ReportData;
    expect(data.slos).toBeNull();
    expect(Object.keys(data)).toEqual(['generatedAt', 'scope', 'slos', 'anatomy', 'cache', 'misses', 'outcomes', 'retries', 'slowest', 'cost']);
    for (const model of models) {
      const a = expectedAnatomy(model);
      const got = data.anatomy.find((r) => r.model === model)!;
      expect([got.calls, got.queue_p50, got.queue_p95, got.ttft_p50, got.ttft_p95, got.total_p95]).toEqual([a.calls, ...a.queue, ...a.ttft, a.total[1]]);
    }
    expect(data.outcomes).toContainEqual({ provider: 'openai', model: 'gpt-4o', outcome: 'truncated', finish_reason: 'length', error_type: '', calls: 1 });
    expect(data.outcomes).toContainEqual(expect.objectContaining({ provider: 'anthropic', outcome: 'error', error_type: 'overloaded_error', calls: 1 }));
    expect(data.retries.find((r) => r.provider === 'anthropic')).toMatchObject({ calls: 3, retried_calls: 1, retries: 2 });
    expect(data.misses).toEqual([{ provider: 'anthropic', reason: 'cold', break_at: '', calls: 1 }]);
    const bySlowest = [...calls.keys()].sort((a, b) => calls[b]!.duration - calls[a]!.duration);
    expect(data.slowest.map((s) => s.trace_id)).toEqual(bySlowest.map(seededTraceId));
    // --service narrows every section; still no SLOs.
    const search = JSON.parse((await report(serviceDir, ['--json', '--service', 'search'])).stdout) as ReportData;
    expect(search.slos).toBeNull();
    expect(search.anatomy.map((a) => [a.model, a.calls])).toEqual([['claude-sonnet-5', 3]]);
  }, 60_000);

  describe('--html', () => {
    let htmlPath: string;
    beforeAll(async () => {
      htmlPath = join(serviceDir, 'report.html');
      const { stdout, stderr } = await report(serviceDir, ['--html', htmlPath]);
      expect(stdout).toContain(`HTML report: ${htmlPath}`);
      expect(stderr).toBe(`${noSloConfigHint()}\n`);
    }, 60_000);

    test('has the latency and cache charts and a note instead of the SLO table and charts', async () => {
      const html = await readFile(htmlPath, 'utf8');
      const dom = new JSDOM(html).window.document;
      for (const id of CHART_IDS) expect(dom.getElementById(id) !== null, id).toBe(!SLO_CHART_IDS.includes(id));
      expect(dom.getElementById('slo-table')).toBeNull();
      expect(dom.getElementById('no-slo-config')?.textContent).toBe(noSloConfigHint());
      const data = JSON.parse(dom.getElementById('report-data')!.textContent!) as ReportData;
      expect(data.slos).toBeNull();
      expect(data.anatomy.map((a) => a.model).sort()).toEqual([...models].sort());
    });

    test('draws those charts in headless Chromium', async (ctx) => {
      const dom = await renderInChromium(ctx, htmlPath);
      for (const id of CHART_IDS.filter((c) => !SLO_CHART_IDS.includes(c))) {
        expect(dom.querySelectorAll(`#${id} svg path`).length, `paths in ${id}`).toBeGreaterThan(3);
      }
    }, 90_000);
  });

  test('an explicit --config that does not exist is an error, and nothing is reported', async () => {
    const failure = await report(serviceDir, ['--config', 'slo/prod.yaml']).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stdout: '' });
    expect((failure as { stderr: string }).stderr).toMatch(/SLO config slo\/prod\.yaml not found/);
    // Also when it names the default file.
    await expect(report(serviceDir, ['--config', 'llm-prism.slo.yaml'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('SLO config llm-prism.slo.yaml not found'),
    });
  }, 60_000);

  test('once llm-prism.slo.yaml exists, the SLO section is back and the hint is gone', async () => {
    const withConfig = await mkdtemp(join(tmpdir(), 'llm-prism-service-slo-'));
    await writeFile(
      join(withConfig, 'llm-prism.slo.yaml'),
      'window: 28d\nslos:\n  - service: search\n    ttft: { thresholdMs: 300, objective: 0.9 }\n    completion: { thresholdMs: 1000, objective: 0.9 }\n',
    );
    const { stdout, stderr } = await report(withConfig, ['--json', '--data-dir', join(serviceDir, DEFAULT_DATA_DIR)]);
    expect(stderr).toBe('');
    const data = JSON.parse(stdout) as ReportData;
    // search: TTFT over its two streamed calls, both within 300 ms; completion: the two successes within 1 s of three calls.
    expect(data.slos?.map((s) => [s.service, s.kind, s.good, s.total])).toEqual([
      ['search', 'ttft', 2, 2],
      ['search', 'completion', 2, 3],
    ]);
  }, 60_000);
});

test('a reader that stops early (`llm-prism report --html … | head -1`): the report ends quietly, exit 0', async () => {
  const child = spawn(process.execPath, [bin, 'report', '--html', join(serviceDir, 'early.html')], { cwd: serviceDir, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  // Read the first output, then close the pipe, as `head -1` does: the "HTML report:" line comes later.
  child.stdout.once('data', () => child.stdout.destroy());
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(stderr).not.toMatch(/EPIPE|^\s+at /m);
  expect(code).toBe(0);
}, 60_000);
