// The ClickHouse / chDB options shared by every command that opens storage (migrate, serve, report).
import { accessSync, constants, existsSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATA_DIR, DEFAULT_DATABASE, openStorage, type Storage, type StorageOptions, validateRetentionDays } from '@llm-prism/storage';
import { httpUrl, nonEmpty } from './arguments.ts';

/** What commander parses from the options added by storageOptions(). */
export interface StorageCliOptions {
  dataDir: string;
  clickhouseUrl?: string;
  user?: string;
  password?: string;
  database: string;
  cluster?: string;
  retentionDays?: number;
}

/** Storage's rule, refused as commander refuses an option (usage error, exit 1). */
function retentionDays(value: string): number {
  try {
    return validateRetentionDays(Number(value));
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Adds the storage options (with their environment-variable fallbacks) to a command. */
export function storageOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--data-dir <path>', 'embedded chDB data directory (ignored with --clickhouse-url)')
        .env('LLM_PRISM_DATA_DIR')
        .default(DEFAULT_DATA_DIR)
        .argParser(nonEmpty('a directory')),
    )
    .addOption(
      new Option('--clickhouse-url <url>', 'use a ClickHouse server over HTTP(S) instead, e.g. http://localhost:8123')
        .env('LLM_PRISM_CLICKHOUSE_URL')
        .argParser(httpUrl),
    )
    .addOption(new Option('--user <name>', 'ClickHouse user (the server\'s "default" user when unset)').env('LLM_PRISM_CLICKHOUSE_USER'))
    .addOption(
      new Option('--password <password>', 'ClickHouse password (prefer the environment variable)').env(
        'LLM_PRISM_CLICKHOUSE_PASSWORD',
      ),
    )
    .addOption(new Option('--database <name>', 'ClickHouse database').default(DEFAULT_DATABASE))
    .addOption(
      new Option('--cluster <name>', 'ClickHouse cluster: DDL ON CLUSTER, replicated local tables behind Distributed tables'),
    )
    .addOption(
      new Option('--retention-days <days>', 'TTL of spans and LLM calls (SLO rollups keep at least 400 days); default: keep forever').argParser(
        retentionDays,
      ),
    );
}

/** Maps parsed options to openStorage() options. */
export function storageOptionsFrom(opts: StorageCliOptions): StorageOptions {
  const storage: StorageOptions = { database: opts.database };
  if (opts.clickhouseUrl !== undefined) {
    storage.url = opts.clickhouseUrl;
    if (opts.user !== undefined) storage.username = opts.user;
    if (opts.password !== undefined) storage.password = opts.password;
  } else {
    storage.dataDir = opts.dataDir;
  }
  if (opts.cluster !== undefined) storage.cluster = opts.cluster;
  if (opts.retentionDays !== undefined) storage.retentionDays = opts.retentionDays;
  return storage;
}

/** Where the options point, for start-up messages (never shows credentials). */
export function describeStorage(opts: StorageOptions): string {
  const where = opts.url !== undefined ? `ClickHouse at ${new URL(opts.url).origin}` : `embedded chDB in ${opts.dataDir}`;
  const cluster = opts.cluster === undefined ? '' : ` on cluster ${opts.cluster}`;
  return `${where}, database ${opts.database ?? DEFAULT_DATABASE}${cluster}`;
}

/**
 * Opens the storage the options name. chDB locks its data directory for one process, and cannot
 * open one that another process holds (a running `llm-prism serve`; the native library prints
 * "Cannot lock file" itself) nor one this user cannot write: each said plainly, not as a stack
 * trace. `existing`: the embedded directory must exist (a command that only reads: a mistyped
 * path would otherwise become an empty store, and an empty report).
 */
export async function openStorageFor(command: Command, options: StorageOptions, { existing = false } = {}): Promise<Storage> {
  const embedded = options.url === undefined ? (options.dataDir ?? DEFAULT_DATA_DIR) : undefined;
  const fail = (why: string): never => command.error(`llm-prism ${command.name()}: ${why}`);
  if (embedded !== undefined && existing && !existsSync(embedded)) {
    fail(`no embedded data directory at ${embedded}: nothing was stored there. Check --data-dir (LLM_PRISM_DATA_DIR), or read a ClickHouse server with --clickhouse-url.`);
  }
  try {
    if (!existing) return await openStorage(options);
    // A command that only reads: a mistyped --database would otherwise be created, empty, and read
    // as no traffic. Upgraded (migrated) once it is known to be a store.
    const storage = await openStorage({ ...options, migrate: false });
    const database = storage.database;
    const [found] = await storage.client
      .query({ query: 'SELECT count() AS n FROM system.tables WHERE database = {database:String} AND name = {table:String}', query_params: { database, table: 'llm_calls' }, format: 'JSONEachRow' })
      .then((r) => r.json<{ n: number | string }>())
      .catch(async (error: unknown) => {
        await storage.close().catch(() => {});
        throw error;
      });
    if (Number(found?.n ?? 0) === 0) {
      await storage.close().catch(() => {});
      fail(`no LLM Prism tables in database ${database}${embedded === undefined ? '' : ` of ${embedded}`}: nothing was stored there. Check --database.`);
    }
    await storage.migrate().catch(async (error: unknown) => {
      await storage.close().catch(() => {});
      throw error;
    });
    return storage;
  } catch (error) {
    if (embedded !== undefined && (error as { code?: unknown } | null)?.code === 'CHDB_CONNECTION') {
      const cause = error instanceof Error ? error.message : String(error);
      if (!writable(embedded)) fail(`cannot open the embedded data directory ${embedded} (${cause}): this user cannot write to it, and chDB writes there even to read.`);
      fail(
        `cannot open the embedded data directory ${embedded} (${cause}). ` +
          'Is another process using it, a running `llm-prism serve`? Embedded storage belongs to one process at a time: stop that process first, or store in a ClickHouse server (--clickhouse-url) that both can reach.',
      );
    }
    throw error;
  }
}

/** Whether this process may write in `dir` (an existing directory). */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
