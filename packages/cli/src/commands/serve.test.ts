// The first run in a service directory, as the README tells it: `llm-prism serve` with no flags in a
// directory that has no llm-prism.slo.yaml (serve never reads one), an exporter sends an LLM call,
// and `llm-prism report` in the same directory shows it — everything but the SLOs, and the hint.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { noSloConfigHint, type ReportData } from '@llm-prism/report';
import { startServe, stopServe, type ServeProcess } from '../../test/serve-process.ts';

const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
let serve: ServeProcess | undefined;

afterAll(async () => {
  if (serve) await stopServe(serve);
});

/** The user's shell environment, without the variables that would point the CLI elsewhere. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('LLM_PRISM_')) delete env[name];
  return env;
}

const attr = (key: string, value: string | number | boolean) => ({
  key,
  value: typeof value === 'string' ? { stringValue: value } : typeof value === 'boolean' ? { boolValue: value } : { intValue: String(value) },
});

test('serve and report work with no flags in a directory without llm-prism.slo.yaml', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'llm-prism-first-run-'));
  serve = await startServe({ cwd, env: userEnv() });
  const { url } = serve;
  expect(serve.stderr()).toContain('storing spans in embedded chDB in .llm-prism/data, database otel');
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // no token: loopback only

  const start = BigInt(Date.now() - 5_000) * 1_000_000n;
  const span = {
    traceId: 'ab'.repeat(16),
    spanId: 'cd'.repeat(8),
    name: 'chat gpt-4o-mini',
    kind: 3, // client
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + 1_200_000_000n).toString(),
    attributes: [
      attr('gen_ai.operation.name', 'chat'),
      attr('gen_ai.provider.name', 'openai'),
      attr('gen_ai.request.model', 'gpt-4o-mini'),
      attr('gen_ai.request.stream', true),
      attr('llm.outcome', 'success'),
      attr('llm.queue_ms', 80),
      attr('llm.prefill_ms', 220),
      attr('llm.ttft_ms', 300),
      attr('llm.decode_ms', 900),
    ],
  };
  const res = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [{ resource: { attributes: [attr('service.name', 'checkout')] }, scopeSpans: [{ scope: { name: 'test' }, spans: [span] }] }],
    }),
  });
  expect(res.status).toBe(200);
  // While serve holds the embedded data directory, a report cannot open it: said plainly, exit 1.
  const busy = await promisify(execFile)(process.execPath, [bin, 'report', '--json'], { cwd, env: userEnv(), timeout: 60_000 }).then(
    () => undefined,
    (error: { code?: number; stdout?: string; stderr?: string }) => error,
  );
  expect(busy?.code).toBe(1);
  expect(busy?.stdout).toBe('');
  expect(busy?.stderr).toContain('llm-prism report: cannot open the embedded data directory .llm-prism/data');
  expect(busy?.stderr).toContain('a running `llm-prism serve`?');
  expect(busy?.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(await stopServe(serve)).toBe(0);
  expect(await readdir(cwd)).toEqual(['.llm-prism']); // serve wrote its data and nothing else

  const { stdout, stderr: reportErr } = await promisify(execFile)(process.execPath, [bin, 'report', '--json'], { cwd, env: userEnv(), timeout: 60_000 });
  expect(reportErr).toBe(`${noSloConfigHint()}\n`);
  const data = JSON.parse(stdout) as ReportData;
  expect(data.slos).toBeNull();
  expect(data.anatomy).toEqual([
    expect.objectContaining({ model: 'gpt-4o-mini', calls: 1, queue_p50: 80, prefill_p50: 220, ttft_p50: 300, decode_p50: 900, total_p50: 1200 }),
  ]);
  expect(data.slowest).toEqual([expect.objectContaining({ trace_id: 'ab'.repeat(16), service: 'checkout', outcome: 'success' })]);
}, 90_000);
