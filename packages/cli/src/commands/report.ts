// `llm-prism report`: SLO status, TTFT anatomy, cache misses, failures and the slowest calls, from
// ClickHouse (the embedded data directory or a server), in the terminal, as HTML or as JSON.
// Without llm-prism.slo.yaml (a first run in a service directory) it reports everything but the SLOs.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSloConfig, SloConfigError, type SloConfig } from '@llm-prism/grafana';
import { noSloConfigHint, produceReport } from '@llm-prism/report';
import type { StorageOptions } from '@llm-prism/storage';
import { nonEmpty } from '../arguments.ts';
import { openStorageFor, storageOptions, storageOptionsFrom, type StorageCliOptions } from '../storage-options.ts';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Ten years at most: a longer look back reaches before the epoch (`--since 99999999999d` threw). */
const MAX_SINCE_MS = 3_660 * UNIT_MS.d;

function duration(value: string): number {
  const m = /^(\d+)([mhd])$/.exec(value);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!(ms > 0 && ms <= MAX_SINCE_MS)) throw new InvalidArgumentError('expected a duration such as 30m, 24h or 7d (more than 0, at most 3660d)');
  return ms;
}

/** A date, or a date and time with a zone, as ISO 8601 writes them (`Date.parse` alone took '1' as 2001). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** The years the stored timestamps and the SLO queries' `toDateTime` (UInt32 seconds) both hold. */
const FIRST_YEAR = 1970;
const LAST_YEAR = 2105;

function instant(value: string): number {
  const t = ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) throw new InvalidArgumentError('expected an ISO 8601 time, e.g. 2026-11-23T12:00:00Z or 2026-11-23');
  // Date.parse rolls an impossible day over (2026-02-30 is March 2nd): the date as typed must exist.
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const typed = new Date(Date.UTC(year, month - 1, day));
  if (typed.getUTCMonth() !== month - 1 || typed.getUTCDate() !== day) throw new InvalidArgumentError(`no such date: ${value.slice(0, 10)}`);
  if (t < Date.UTC(FIRST_YEAR, 0, 1) || t >= Date.UTC(LAST_YEAR + 1, 0, 1)) throw new InvalidArgumentError(`expected a time from ${FIRST_YEAR} to ${LAST_YEAR}, got ${value}`);
  return t;
}

const DEFAULT_CONFIG = 'llm-prism.slo.yaml';

const notFound = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/**
 * The SLO config; undefined when the default file does not exist. A file named with --config must
 * exist, and a config that exists must be valid.
 */
async function sloConfig(command: Command, path: string): Promise<SloConfig | undefined> {
  try {
    return await loadSloConfig(path);
  } catch (error) {
    if (error instanceof SloConfigError) command.error(error.message);
    if (notFound(error)) {
      if (command.getOptionValueSource('config') === 'default') return undefined;
      command.error(`llm-prism report: SLO config ${path} not found (named by --config; leave --config out to report without SLOs)`);
    }
    command.error(`llm-prism report: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function registerReport(program: Command): void {
  const command = new Command('report')
    .description('summarise SLOs, latency anatomy, prompt cache and failures from stored LLM calls')
    .option('-c, --config <file>', `SLO config (YAML); without it, and no ${DEFAULT_CONFIG} here, the report has no SLO section`, DEFAULT_CONFIG)
    .addOption(new Option('--since <duration>', 'report the last 30m / 24h / 7d').argParser(duration).default(86_400_000, '24h'))
    .addOption(new Option('--from <time>', 'start (ISO 8601); overrides --since').argParser(instant))
    .addOption(new Option('--to <time>', 'end (ISO 8601), default now').argParser(instant))
    .addOption(new Option('--service <name>', 'only this service').argParser(nonEmpty('a service name')))
    .option('--html <file>', 'also write a self-contained HTML report with charts')
    .option('--json', 'print the report as JSON instead of text');
  storageOptions(command).action(
    async (opts: StorageCliOptions & { config: string; since: number; from?: number; to?: number; service?: string; html?: string; json?: boolean }) => {
      const config = await sloConfig(command, opts.config);
      const to = opts.to ?? Date.now();
      const from = opts.from ?? to - opts.since;
      if (from >= to) command.error(`llm-prism report: the range is empty: ${new Date(from).toISOString()} is not before ${new Date(to).toISOString()}`);
      const storageOpts: StorageOptions = storageOptionsFrom(opts);
      const storage = await openStorageFor(command, storageOpts, { existing: true });
      try {
        await produceReport(storage, config, { from, to, ...(opts.service ? { service: opts.service } : {}) }, opts);
      } finally {
        await storage.close();
      }
      // On stderr, so that stdout stays the report (and --json stays JSON).
      if (!config) console.error(noSloConfigHint(opts.config));
    },
  );
  program.addCommand(command);
}
