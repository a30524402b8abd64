// `npm run demo`: embedded ClickHouse + ingest + provider simulator in this process, the sample
// service as an instrumented child process, a minute of traffic with incidents, then the report.
// `sendDemoTraffic` is the traffic alone, to an ingest service (or Collector) already running: the
// Docker stack's demo, whose dashboards read the stack's ClickHouse.
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadSloConfig } from '@llm-prism/grafana';
import { startIngest } from '@llm-prism/ingest';
import { produceReport, type ReportData } from '@llm-prism/report';
import { startSimulator } from '@llm-prism/simulator';
import { openStorage } from '@llm-prism/storage';
import { runLoad, type LoadProgress } from './load.ts';
import { startSampleService, stopSampleService } from './sample-process.ts';

export const DEMO_SERVICE = 'demo-chat';

export interface DemoTrafficOptions {
  /** Length of the traffic phase (default 60 s). */
  durationMs?: number;
  /** Background requests per second (default 6). */
  rate?: number;
  write?: (text: string) => void;
  signal?: AbortSignal;
}

export interface DemoOptions extends DemoTrafficOptions {
  /** Working directory for the data and the HTML report (default .llm-prism/demo; emptied first). */
  dir?: string;
  /** SLO configuration (default: the demo's own, DEMO_SLO_CONFIG). */
  config?: string;
}

export interface DemoResult {
  report: ReportData;
  htmlPath: string;
  load: LoadProgress;
}

/** The demo service's SLOs, shipped in this package (src/ and dist/ sit beside it). */
export const DEMO_SLO_CONFIG = fileURLToPath(new URL('../llm-prism.slo.yaml', import.meta.url));

function progressLine(p: LoadProgress, durationMs: number): string {
  const width = 30;
  const done = Math.round(p.at * width);
  const secs = Math.round((p.at * durationMs) / 1000);
  const incident = p.active.length > 0 ? ` · now: ${p.active.join(', ')}` : '';
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${secs}s  calls ${p.sent} (ok ${p.ok}, failed ${p.failed})${incident}`;
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const write = o.write ?? ((t: string) => process.stdout.write(t));
  const dir = o.dir ?? '.llm-prism/demo';
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const config = await loadSloConfig(o.config ?? DEMO_SLO_CONFIG);

  write(`Starting embedded ClickHouse (chDB) in ${dir} and the ingest service…\n`);
  const storage = await openStorage({ dataDir: join(dir, 'data') });
  try {
    // Loopback only, no tokens whatever LLM_PRISM_TOKENS says: the sample service sends none.
    const ingest = await startIngest({ port: 0, host: '127.0.0.1', storage, tokens: [], log: () => {} });
    let sent: { load: LoadProgress; started: number; ended: number };
    try {
      sent = await sendTraffic(o, ingest.url, write);
    } finally {
      await ingest.close();
    }
    write('\n');
    const htmlPath = join(dir, 'report.html');
    const report = await produceReport(storage, config, { from: sent.started - 60_000, to: sent.ended + 60_000, service: DEMO_SERVICE }, { html: htmlPath }, write);
    return { report, htmlPath, load: sent.load };
  } finally {
    await storage.close();
  }
}

/**
 * The demo's traffic, its spans exported over OTLP/HTTP to `endpoint` (the base URL, as
 * OTEL_EXPORTER_OTLP_ENDPOINT): the sample service inherits this process's environment, so
 * OTEL_EXPORTER_OTLP_HEADERS carries an ingest token. Resolves once the service has flushed.
 */
export async function sendDemoTraffic(endpoint: string, o: DemoTrafficOptions = {}): Promise<LoadProgress> {
  const write = o.write ?? ((t: string) => process.stdout.write(t));
  return (await sendTraffic(o, endpoint, write)).load;
}

async function sendTraffic(o: DemoTrafficOptions, endpoint: string, write: (text: string) => void): Promise<{ load: LoadProgress; started: number; ended: number }> {
  const durationMs = o.durationMs ?? 60_000;
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const sim = await startSimulator({ port: 0 });
    cleanup.push(() => sim.close());
    const service = await startSampleService({
      LLM_PRISM_DEMO_PROVIDER_URL: sim.url,
      OTEL_SERVICE_NAME: DEMO_SERVICE,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '500',
    });
    cleanup.push(async () => {
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
    });
    write(`Sample service "${DEMO_SERVICE}" (node --import @llm-prism/instrumentation/register) at ${service.url}, exporting to ${endpoint}\n`);
    write(`Sending ${Math.round(durationMs / 1000)} s of traffic to OpenAI, Anthropic and Gemini models (the provider simulator) through the real SDKs…\n`);

    const tty = process.stdout.isTTY === true && o.write === undefined;
    let lastLine = 0;
    const started = Date.now();
    const load = await runLoad({
      serviceUrl: service.url,
      durationMs,
      rate: o.rate ?? 6,
      turns: 16,
      evict: () => sim.cache.evictAll('anthropic'),
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (p) => {
        if (tty) write(`\r${progressLine(p, durationMs)}\x1b[K`);
        else if (p.at === 1 || Date.now() - lastLine > 10_000) {
          lastLine = Date.now();
          write(`${progressLine(p, durationMs)}\n`);
        }
      },
    });
    if (tty) write('\n');
    await stopSampleService(service);
    return { load, started, ended: Date.now() };
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}
