// The instrumentation's contract tests once more on Node 22, whose bundled undici 6 has no
// `bodyChunkReceived` channel (arrival is taken from the request's `onData` there) and whose
// node:http publishes its diagnostics at other points: every SDK release of the matrix, both
// transports and calls recognised on the wire, the same ±10 % / ±30 ms fidelity. The rest of
// `npm test` runs on Node 24, the AI SDK and LangChain.js tests among them: their wrappers sit
// above the transport, whose Node 22 paths the SDK and wire tests here already take (fetch on
// undici 6, node:http), so running them twice cost ~40 s of a 2-core `npm test` and checked nothing new.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { NODE22, nodeBinary } from './installed/install.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const CONTRACT = [
  'packages/instrumentation/src/sdk-majors-openai.test.ts',
  'packages/instrumentation/src/sdk-majors-anthropic.test.ts',
  'packages/instrumentation/src/sdk-majors-gemini.test.ts',
  'packages/instrumentation/src/openai-chat.test.ts',
  'packages/instrumentation/src/wire-tap.test.ts',
  'packages/instrumentation/src/http-tap.test.ts',
  'packages/instrumentation/src/wire-calls.test.ts',
  // Bedrock's AWS event stream, read from undici 6's `onData` there.
  'packages/instrumentation/src/anthropic-cloud.test.ts',
  'packages/instrumentation/src/call-end.test.ts',
  'packages/instrumentation/src/call-start.test.ts',
  'packages/instrumentation/src/backpressure.test.ts',
  'packages/instrumentation/src/client-setup.test.ts',
  'packages/instrumentation/src/recordings-replay.test.ts',
  // Its child process imports a .ts file: Node 22 (22.18 on) strips the types by default.
  'packages/instrumentation/src/ttft-deadline.test.ts',
];

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }> }>;
}

it('passes every contract test on Node 22', async () => {
  const node = await nodeBinary(NODE22['22']);
  const out = await mkdtemp(join(tmpdir(), 'llm-prism-node22-'));
  const reportFile = join(out, 'report.json');
  // One worker: this file already runs beside another; timing checks need an unloaded core.
  const result = await promisify(execFile)(node, ['node_modules/vitest/vitest.mjs', 'run', '--maxWorkers=1', '--reporter=json', `--outputFile=${reportFile}`, ...CONTRACT], {
    cwd: repoRoot,
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` },
    // ~200 s here; a slower machine (or a busier one) must not turn the run red.
    timeout: 480_000,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => err);
  const report = JSON.parse(await readFile(reportFile, 'utf8').catch(() => '{}')) as JsonReport;
  await rm(out, { recursive: true, force: true });
  expect(report.testResults, `vitest on Node 22 wrote no report: ${result.stderr}`).toBeDefined();
  const failures = report.testResults?.flatMap((f) => f.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${a.fullName}: ${a.failureMessages[0] ?? a.status}`));
  expect(failures, result.stderr).toEqual([]);
  expect(report.numPendingTests).toBe(0);
  expect(report.numPassedTests).toBe(report.numTotalTests);
  expect(report.numTotalTests).toBeGreaterThan(100);
}, 540_000);
