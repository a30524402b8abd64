/**
 * Runs a fixture app under `node --import @llm-prism/instrumentation/register` against the
 * simulator and collects what the official OTLP/HTTP exporter sends to a local receiver.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { startSimulator } from '@llm-prism/simulator';

/** A span as OTLP/JSON encodes it (the fields the tests read). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  events?: Array<{ name: string }>;
}

export interface ExportRequest {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }>;
  }>;
}

export interface RegisterRun {
  stdout: string;
  /** The signal that ended the process, when one did (`terminateOn`). */
  signal?: string;
  /** ms from the SIGTERM sent (`terminateOn`) to the process's end. */
  msAfterSignal?: number;
  spans: Array<OtlpSpan & { scope: string; serviceName: string | undefined }>;
  contentTypes: string[];
  /** The export requests as received (OTLP/JSON), for a test that stores them. */
  requests: ExportRequest[];
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface RegisterOptions {
  /** Send the app SIGTERM once its output has this line (it then ends with exit code 0, or by the signal). */
  terminateOn?: string;
  /** Send the same signal again this many ms after the first (a second Ctrl-C). */
  againAfterMs?: number;
  /** A collector that takes export requests and never answers them. */
  hangingCollector?: boolean;
  /** More environment for the app. */
  env?: Record<string, string>;
}

export async function runUnderRegister(fixture: string, serviceName: string, options: RegisterOptions = {}): Promise<RegisterRun> {
  const requests: ExportRequest[] = [];
  const contentTypes: string[] = [];
  const receiver = createServer((req, res) => {
    if (options.hangingCollector) return; // the request stays open until the client gives up
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.url === '/v1/traces') {
        contentTypes.push(String(req.headers['content-type']));
        requests.push(JSON.parse(body.toString('utf8')) as ExportRequest);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const sim = await startSimulator({ port: 0, defaultScenario: { queueMs: 50, prefillMs: 50, chunks: 5, chunkIntervalMs: 10 } });
  try {
    const running = promisify(execFile)(process.execPath, ['--import', '@llm-prism/instrumentation/register', fileURLToPath(new URL(`fixtures/${fixture}`, import.meta.url))], {
      cwd: repoRoot,
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        NODE_OPTIONS: process.env.NODE_OPTIONS,
        OPENAI_BASE_URL: sim.openaiBaseURL,
        ANTHROPIC_BASE_URL: sim.anthropicBaseURL,
        GEMINI_BASE_URL: sim.geminiBaseURL,
        OPENAI_API_KEY: 'test-key',
        OTEL_SERVICE_NAME: serviceName,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
        // The official exporter's JSON encoding, so the receiver needs no hand-written protobuf decoding.
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        ...options.env,
      },
    });
    const { terminateOn } = options;
    let terminated = false;
    let signalledAt: number | undefined;
    if (terminateOn !== undefined) {
      running.child.stdout?.on('data', (data: Buffer) => {
        if (!terminated && String(data).split('\n').includes(terminateOn)) {
          signalledAt = performance.now();
          terminated = running.child.kill('SIGTERM');
          if (options.againAfterMs !== undefined) setTimeout(() => running.child.kill('SIGTERM'), options.againAfterMs).unref();
        }
      });
    }
    const { stdout, signal } = await running.then(
      ({ stdout }) => ({ stdout, signal: undefined }),
      (err: { signal?: string; stdout?: string }) => {
        // Ended by the SIGTERM sent here, not by execFile's timeout (which sends one too).
        if (!terminated || err.signal !== 'SIGTERM') throw err;
        return { stdout: err.stdout ?? '', signal: err.signal };
      },
    );
    const spans = requests.flatMap((r) =>
      r.resourceSpans.flatMap((rs) => {
        const serviceName = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        return rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ ...span, scope: ss.scope.name, serviceName })));
      }),
    );
    const msAfterSignal = signalledAt === undefined ? undefined : performance.now() - signalledAt;
    return { stdout, signal, msAfterSignal, spans, contentTypes, requests };
  } finally {
    await sim.close();
    receiver.closeAllConnections(); // a hanging collector's requests too
    await new Promise((resolve) => receiver.close(resolve));
  }
}

/** OTLP/JSON attribute list → plain object. */
export function attributesOf(span: OtlpSpan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of span.attributes ?? []) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? value.intValue ?? value.arrayValue;
    out[key] = typeof v === 'string' && 'intValue' in value ? Number(v) : v;
  }
  return out;
}

/** A span's duration in ms, from its OTLP/JSON nanosecond times. */
export function durationMs(span: OtlpSpan): number {
  return Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
}
