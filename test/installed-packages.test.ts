// The packages as users get them: built, packed, installed from the tarballs into a project outside
// the repository and run with plain Node 22 (the newest and the 22.15 floor) and 24 — an ESM app with --import, a CommonJS app with
// --require (and --import), on openai 7 and openai 4 — exporting to `llm-prism serve` from that
// install; `llm-prism report --json` from the same install must show every call with its phases.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSimulator, type Simulator } from '@llm-prism/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, stopServe } from '../packages/cli/test/serve-process.ts';
import { installPackages, userEnv, type Installed, type NodeVersion } from './installed/install.ts';

const run = promisify(execFile);
const SCENARIO = { queueMs: 200, prefillMs: 300, chunks: 10, chunkIntervalMs: 20 };
const LATE_MS = 600;

interface App {
  name: string;
  file: 'chat.mjs' | 'chat.cjs';
  openai: 'app' | 'openai4';
  flag: '--import' | '--require';
}
const APPS: App[] = [
  { name: 'esm-openai7', file: 'chat.mjs', openai: 'app', flag: '--import' },
  { name: 'cjs-openai7', file: 'chat.cjs', openai: 'app', flag: '--require' },
  { name: 'cjs-import-openai7', file: 'chat.cjs', openai: 'app', flag: '--import' },
  { name: 'esm-openai4', file: 'chat.mjs', openai: 'openai4', flag: '--import' },
  { name: 'cjs-openai4', file: 'chat.cjs', openai: 'openai4', flag: '--require' },
];

interface AnatomyRow {
  model: string;
  calls: number;
  streamed: number;
  setup_p50: number | null;
  queue_p50: number | null;
  ttft_p50: number | null;
  decode_p50: number | null;
}
interface ReportJson {
  slos: unknown;
  anatomy: AnatomyRow[];
  outcomes: Array<{ model: string; outcome: string; finish_reason: string; calls: number }>;
}

let installed: Installed;
let sim: Simulator;

beforeAll(async () => {
  installed = await installPackages();
  for (const app of APPS) {
    const dir = app.openai === 'app' ? installed.dir : installed.openai4Dir;
    await copyFile(fileURLToPath(new URL(`installed/apps/${app.file}`, import.meta.url)), join(dir, app.file));
  }
  sim = await startSimulator({ port: 0, defaultScenario: SCENARIO });
}, 600_000);

afterAll(async () => {
  await sim?.close();
});

function expectWithin(actual: number | null | undefined, expected: number, label: string): void {
  const tolerance = Math.max(expected * 0.1, 30);
  expect(actual, label).toBeTypeOf('number');
  expect(Math.abs(actual! - expected), `${label}: ${actual} ms vs ${expected} ms (±${tolerance})`).toBeLessThanOrEqual(tolerance);
}

describe.each<NodeVersion>(['22.15', '22', '24'])('installed from tarballs, Node %s', (version) => {
  const outputs = new Map<string, string>();
  const reports = new Map<string, ReportJson>();
  const service = (app: App): string => `installed-${app.name}-node${version}`;

  beforeAll(async () => {
    const node = installed.node[version];
    const { stdout: v } = await run(node, ['--version']);
    expect(v.trim().startsWith(`v${version}.`)).toBe(true);
    const dataDir = await mkdtemp(join(tmpdir(), 'llm-prism-installed-data-'));
    // `llm-prism serve` from the install, as `npx llm-prism serve` would start it.
    const serve = await startServe({ node, bin: join(installed.dir, 'node_modules', '.bin', 'llm-prism'), cwd: installed.dir, env: installed.env, dataDir, startTimeoutMs: 60_000 });
    try {
      for (const app of APPS) {
        const { stdout } = await run(node, [app.flag, '@llm-prism/instrumentation/register', app.file], {
          cwd: app.openai === 'app' ? installed.dir : installed.openai4Dir,
          timeout: 60_000,
          env: userEnv({
            SIM_URL: sim.openaiBaseURL,
            LATE_MS: String(LATE_MS),
            OTEL_SERVICE_NAME: service(app),
            OTEL_EXPORTER_OTLP_ENDPOINT: serve.url,
            OTEL_METRICS_EXPORTER: 'none',
            OTEL_LOGS_EXPORTER: 'none',
          }),
        });
        outputs.set(app.name, stdout);
      }
    } finally {
      await stopServe(serve);
    }
    for (const app of APPS) {
      const { stdout } = await run(node, [join(installed.dir, 'node_modules', '.bin', 'llm-prism'), 'report', '--json', '--since', '1h', '--service', service(app), '--data-dir', dataDir], {
        cwd: installed.dir,
        env: installed.env,
        timeout: 60_000,
      });
      reports.set(app.name, JSON.parse(stdout) as ReportJson);
    }
    await rm(dataDir, { recursive: true, force: true });
  }, 300_000);

  it.each(APPS)('$name ($flag): the app runs unchanged and the report shows both calls with their phases', (app) => {
    const out = JSON.parse(outputs.get(app.name)!) as { streamed: number; answered: number; api?: string };
    expect(out.streamed).toBeGreaterThan(0);
    expect(out.answered).toBeGreaterThan(0);
    if (app.file === 'chat.cjs') expect(out.api).toBe('function');

    const report = reports.get(app.name)!;
    expect(report.slos).toBeNull();
    const streamed = report.anatomy.find((r) => r.model === 'gpt-4o');
    const plain = report.anatomy.find((r) => r.model === 'gpt-4o-mini');
    expect(streamed).toMatchObject({ calls: 1, streamed: 1 });
    expect(plain).toMatchObject({ calls: 1, streamed: 0 });
    // Arrival times, not the late reader's: queue, TTFT and decode are the simulator's delays.
    expectWithin(streamed!.queue_p50, SCENARIO.queueMs, 'queue');
    // TTFT counts from the call, so it holds the client's set-up too: this process's first call,
    // which connects and warms the SDK (tens of ms on a slow host).
    expect(streamed!.setup_p50).toBeTypeOf('number');
    expectWithin(streamed!.ttft_p50, streamed!.setup_p50! + SCENARIO.queueMs + SCENARIO.prefillMs, 'TTFT');
    expectWithin(streamed!.decode_p50, (SCENARIO.chunks - 1) * SCENARIO.chunkIntervalMs, 'decode');
    expect(report.outcomes.map((o) => [o.model, o.outcome, o.finish_reason, o.calls]).sort()).toEqual([
      ['gpt-4o', 'success', 'stop', 1],
      ['gpt-4o-mini', 'success', 'stop', 1],
    ]);
  });
});

it('the install is consistent: `npm ls --all` finds every dependency and peer range satisfied', async () => {
  // npm exits 1 on an unmet range (CI scripts and Dependabot read it); its stderr names the range.
  const result = await run('npm', ['ls', '--all'], { cwd: installed.dir, env: installed.env, maxBuffer: 64 * 1024 * 1024 }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr }),
  );
  expect(result).toEqual({ code: 0, stderr: '' });
}, 60_000);

it('`llm-prism demo` runs from the install, with the demo service SLOs the package ships', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'llm-prism-installed-demo-'));
  try {
    const { stdout } = await run(installed.node['24'], [join(installed.dir, 'node_modules', '.bin', 'llm-prism'), 'demo', '--seconds', '5', '--dir', dir], {
      cwd: installed.dir,
      // A token in the user's shell is not the demo's: its embedded ingest takes none.
      env: { ...installed.env, LLM_PRISM_TOKENS: 'a-token-of-the-users-own' },
      timeout: 120_000,
    });
    const sent = Math.max(...[...stdout.matchAll(/calls (\d+) \(ok/g)].map((m) => Number(m[1])));
    expect(sent).toBeGreaterThan(0);
    expect(stdout).toMatch(/demo-chat TTFT ≤ 1500 ms\s+\d/);
    expect(stdout).toMatch(/demo-chat completion ≤ 20000 ms\s+\d/);
    expect(stdout).toContain('TTFT anatomy by model');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 180_000);

it('`llm-prism demo --endpoint` sends its traffic to a running `llm-prism serve` that wants a token, as the Docker stack\'s demo does', async () => {
  const node = installed.node['24'];
  const bin = join(installed.dir, 'node_modules', '.bin', 'llm-prism');
  const dataDir = await mkdtemp(join(tmpdir(), 'llm-prism-installed-endpoint-'));
  const token = 'installed-demo-token';
  try {
    const serve = await startServe({ node, bin, cwd: installed.dir, env: { ...installed.env, LLM_PRISM_TOKENS: token }, dataDir, args: ['--host', '127.0.0.1'], startTimeoutMs: 60_000 });
    let stdout: string;
    try {
      // LLM_PRISM_TOKENS holds: an export without the token is refused.
      const refused = await fetch(`${serve.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(refused.status).toBe(401);
      // The token reaches the sample service's exporter through the environment, as compose passes it.
      ({ stdout } = await run(node, [bin, 'demo', '--endpoint', serve.url, '--seconds', '5'], {
        cwd: installed.dir,
        env: { ...installed.env, OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${token}` },
        timeout: 120_000,
      }));
    } finally {
      await stopServe(serve);
    }
    const sent = Number(/(\d+) calls sent \(ok/.exec(stdout)?.[1]);
    expect(sent).toBeGreaterThan(0);
    const { stdout: json } = await run(node, [bin, 'report', '--json', '--since', '1h', '--service', 'demo-chat', '--data-dir', dataDir], {
      cwd: installed.dir,
      env: installed.env,
      timeout: 60_000,
    });
    // Every request became at least one stored call (a tool-using request makes two).
    const stored = (JSON.parse(json) as ReportJson).anatomy.reduce((n, r) => n + Number(r.calls), 0);
    expect(stored).toBeGreaterThanOrEqual(sent);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}, 240_000);

/**
 * Node 24 only (Node 22's V8 has no such protector): on Node 24 an ES import resolved through a
 * package's "main" field invalidates V8's TypedArrayLengthLookupChain protector, after which every
 * typed array `length` read in the process is a call (the bare openai SDK then spends ~16 % more CPU
 * on a streamed call, bench/README.md). Importing the package, or starting it with `--import
 * …/register`, must leave it intact; the control shows the check sees an invalidation here.
 */
describe('installed from tarballs, Node 24: loading LLM Prism keeps V8 typed arrays fast', () => {
  const CHECK = 'console.log(%TypedArrayLengthProtector())';
  const protector = async (args: string[]): Promise<string> => {
    const { stdout } = await run(installed.node['24'], ['--allow-natives-syntax', ...args], { cwd: installed.dir, env: installed.env, timeout: 60_000 });
    return stdout.trim();
  };

  it.each([
    ['import of the package', ['--input-type=module', '-e', `await import('@llm-prism/instrumentation'); ${CHECK}`]],
    ['--import of its register entry', ['--import', '@llm-prism/instrumentation/register', '-e', CHECK]],
    ['--require of its register entry', ['--require', '@llm-prism/instrumentation/register', '-e', CHECK]],
  ])('%s', async (_, args) => {
    expect(await protector(args)).toBe('true');
  });

  it('control: an ES import of a package resolved through "main" (require-in-the-middle) invalidates it', async () => {
    expect(await protector(['--input-type=module', '-e', `await import('require-in-the-middle'); ${CHECK}`])).toBe('false');
  });
});

/**
 * `node -e` and `node -p` have no entry file: their code requires builtins as the entry point, which
 * import-in-the-middle 3.6's synchronous hooks alone answer as an extensionless CommonJS script
 * (with `--require`, Node 22.23 and 24 stopped with ENOENT, open 'module', before any of the code
 * ran; Node 22.15 has no synchronous hooks).
 */
describe.each<NodeVersion>(['22.15', '22', '24'])('installed from tarballs, Node %s: one-liners run under the register entry', (version) => {
  it.each([
    ['-e', 'console.log(require("node:module").builtinModules.includes("fs"))'],
    ['-p', 'require("node:module").builtinModules.includes("fs")'],
  ])('--require … %s', async (evalFlag, code) => {
    const { stdout } = await run(installed.node[version], ['--require', '@llm-prism/instrumentation/register', evalFlag, code], { cwd: installed.dir, env: installed.env, timeout: 60_000 });
    expect(stdout.trim()).toBe('true');
  });
});
