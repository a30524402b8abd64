// The machine and the versions of everything compared, for the report.
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { versionOf } from '../overhead/variants.ts';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  freeMemoryBytes: number;
  loadAverage: number[];
  os: string;
  node: string;
  versions: Record<string, string>;
}

const REPO_PACKAGES = [
  'openai',
  'ai',
  '@ai-sdk/openai',
  '@ai-sdk/otel',
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/instrumentation',
  '@opentelemetry/exporter-trace-otlp-proto',
  '@clickhouse/client',
  'chdb',
  'hono',
];
const PEER_PACKAGES = ['openai', '@traceloop/instrumentation-openai', 'openlit', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/instrumentation'];
const OTEL_PEER_PACKAGES = ['openai', '@opentelemetry/instrumentation-openai', '@opentelemetry/api', '@opentelemetry/sdk-trace', '@opentelemetry/instrumentation'];

export function describeMachine(): Machine {
  const versions: Record<string, string> = {};
  for (const p of REPO_PACKAGES) versions[p] = versionOf(p, 'repo');
  for (const p of PEER_PACKAGES) versions[`${p} (bench/peers)`] = versionOf(p, 'peers');
  for (const p of OTEL_PEER_PACKAGES) versions[`${p} (bench/peers-otel)`] = versionOf(p, 'peers-otel');
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    loadAverage: loadavg(),
    os: `${process.platform} ${release()}`,
    node: process.version,
    versions,
  };
}
