/**
 * The register entry point with the Anthropic and Gemini SDKs loaded as ESM (import-in-the-middle
 * patches their .mjs files), with GenAI metrics exported over OTLP as NodeSDK configures them from
 * OTEL_METRICS_EXPORTER, and without breaking the app when no collector listens.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { startSimulator, type Simulator } from '@llm-prism/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The app: one streamed Anthropic call, one Gemini call, as an ESM module. */
const APP = `
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
const anthropic = new Anthropic({ baseURL: process.env.SIM_URL, apiKey: 'x' });
const stream = await anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true });
let text = '';
for await (const e of stream) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
const gemini = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: process.env.SIM_URL } });
const answer = await gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
console.log(JSON.stringify({ text, gemini: answer.text, sdkTracing: anthropic.openTelemetry.traces.enabled }));
`;

interface Received {
  path: string;
  body: any; // OTLP/JSON as the official exporters send it
}

let sim: Simulator;
let receiver: Server;
const received: Received[] = [];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, defaultScenario: { queueMs: 20, prefillMs: 30, chunks: 4, chunkIntervalMs: 10 } });
  receiver = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      received.push({ path: req.url ?? '', body: JSON.parse(body.toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => receiver.close(resolve));
});

async function runApp(endpoint: string): Promise<{ stdout: string; ms: number }> {
  const started = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', '@llm-prism/instrumentation/register', '--input-type=module', '-e', APP], {
    cwd: repoRoot,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      NODE_OPTIONS: process.env.NODE_OPTIONS,
      SIM_URL: sim.url,
      OTEL_SERVICE_NAME: 'providers-app',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
    },
  });
  return { stdout, ms: performance.now() - started };
}

it('instruments the ESM copies of both SDKs and exports spans and GenAI metrics', async () => {
  const { stdout } = await runApp(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}`);
  expect(JSON.parse(stdout)).toEqual({ text: 'tok tok tok tok ', gemini: 'tok tok tok tok ', sdkTracing: false });

  const spans = received
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) => r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)));
  const clientSpans = spans.filter((s: any) => s.kind === 3);
  expect(clientSpans.map((s: any) => s.name).sort()).toEqual(['chat claude-sonnet-5-5', 'generate_content gemini-2.5-flash']);
  expect(spans.map((s: any) => s.name)).toContain('llm.decode');

  const metrics = received
    .filter((r) => r.path === '/v1/metrics')
    .flatMap((r) => r.body.resourceMetrics.flatMap((rm: any) => rm.scopeMetrics))
    .filter((sm: any) => sm.scope.name === '@llm-prism/instrumentation')
    .flatMap((sm: any) => sm.metrics);
  const names = new Set(metrics.map((m: any) => m.name));
  for (const name of ['gen_ai.client.operation.duration', 'gen_ai.client.operation.time_to_first_chunk', 'gen_ai.client.operation.time_per_output_chunk', 'gen_ai.client.token.usage']) {
    expect(names, name).toContain(name);
  }
  const duration = metrics.find((m: any) => m.name === 'gen_ai.client.operation.duration');
  expect(duration.unit).toBe('s');
  expect(duration.histogram.dataPoints).toHaveLength(2);
  expect(duration.histogram.dataPoints[0].explicitBounds).toEqual([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]);
});

it('runs the app unchanged when no collector is listening', async () => {
  // A port that was just free: nothing accepts connections there.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const { stdout } = await runApp(`http://127.0.0.1:${port}`);
  expect(JSON.parse(stdout)).toMatchObject({ text: 'tok tok tok tok ', gemini: 'tok tok tok tok ' });
});
