// `llm-prism report`: SLO status, TTFT anatomy, cache misses, failures and the slowest calls, from
// ClickHouse (the embedded data directory or a server), in the terminal, as HTML or as JSON.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSloConfig, SloConfigError } from '@llm-prism/grafana';
import { produceReport } from '@llm-prism/report';
import { openStorage, type StorageOptions } from '@llm-prism/storage';
import { storageOptions, storageOptionsFrom, type StorageCliOptions } from '../storage-options.ts';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function duration(value: string): number {
  const m = /^(\d+)([mhd])$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected a duration such as 30m, 24h or 7d');
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

function instant(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError('expected an ISO 8601 time, e.g. 2026-11-23T12:00:00Z');
  return t;
}

export function registerReport(program: Command): void {
  const command = new Command('report')
    .description('summarise SLOs, latency anatomy, prompt cache and failures from stored LLM calls')
    .option('-c, --config <file>', 'SLO config (YAML)', 'llm-prism.slo.yaml')
    .addOption(new Option('--since <duration>', 'report the last 30m / 24h / 7d').argParser(duration).default(86_400_000, '24h'))
    .addOption(new Option('--from <time>', 'start (ISO 8601); overrides --since').argParser(instant))
    .addOption(new Option('--to <time>', 'end (ISO 8601), default now').argParser(instant))
    .option('--service <name>', 'only this service')
    .option('--html <file>', 'also write a self-contained HTML report with charts')
    .option('--json', 'print the report as JSON instead of text');
  storageOptions(command).action(
    async (opts: StorageCliOptions & { config: string; since: number; from?: number; to?: number; service?: string; html?: string; json?: boolean }) => {
      const config = await loadSloConfig(opts.config).catch((error: unknown) =>
        command.error(error instanceof SloConfigError ? error.message : `cannot read ${opts.config}: ${String(error)}`),
      );
      const to = opts.to ?? Date.now();
      const from = opts.from ?? to - opts.since;
      const storageOpts: StorageOptions = storageOptionsFrom(opts);
      const storage = await openStorage(storageOpts);
      try {
        await produceReport(storage, config, { from, to, ...(opts.service ? { service: opts.service } : {}) }, opts);
      } finally {
        await storage.close();
      }
    },
  );
  program.addCommand(command);
}
