// openStorage: one ClickHouseClient over embedded chDB or a ClickHouse server; everything after
// the connection (migrations, inserts, queries) is the same code for both.
import { mkdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { type ClickHouseClient, type ClickHouseClientConfigOptions, ClickHouseLogLevel, type ClickHouseSettings, createClient, parseError } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { InsertJournal, repairCutInsert } from './cut-inserts.ts';
import { encodeJsonEachRow } from './json-each-row.ts';
import { type DdlContext, qualified, quote, validateCluster } from './ddl.ts';
import { applyFsync, type InsertQuorum, quorumSettings, validateInsertQuorum } from './durability.ts';
import { withoutStoredCalls } from './insert-dedup.ts';
import { applyMigrations } from './migrations.ts';
import type { SpanRow } from './otel-traces.ts';
import { applyRetention, validateRetentionDays } from './retention.ts';
import { OTEL_TRACES } from './tables.ts';

export interface StorageOptions {
  /** Embedded chDB data directory (default '.llm-prism/data'); ignored when `url` is set. */
  dataDir?: string;
  /** A ClickHouse server over HTTP(S), e.g. 'http://localhost:8123'. */
  url?: string;
  username?: string;
  password?: string;
  /** Default 'otel'. */
  database?: string;
  /** DDL ON CLUSTER, Replicated*MergeTree local tables behind Distributed tables. */
  cluster?: string;
  /** TTL on otel_traces, its lookup table and llm_calls; rollups keep max(this, 400) days. */
  retentionDays?: number;
  /** Apply migrations while opening (default true); false leaves it to an explicit migrate(). */
  migrate?: boolean;
  /**
   * fsync each inserted part before the insert returns, so acknowledged spans survive power loss
   * (durability.ts; applied by migrate()). Undefined leaves the tables' setting as it is.
   */
  fsync?: boolean;
  /** On a cluster: replicas of the shard that must have each insert before it returns ('auto': a majority). */
  insertQuorum?: InsertQuorum;
  /**
   * A server: how long a query or insert may take before the client gives up (default 30 000, the
   * client's). Migrations are not bound by it (MIGRATION_TIMEOUT_MS).
   */
  requestTimeoutMs?: number;
}

export interface Storage {
  readonly client: ClickHouseClient;
  readonly database: string;
  /**
   * Applies pending migrations, the configured retention and fsync (idempotent), and on embedded
   * chDB repairs an insert a killed process left cut (cut-inserts.ts); returns the versions applied by this call.
   */
  migrate(): Promise<number[]>;
  /**
   * One synchronous INSERT … FORMAT JSONEachRow; resolves once stored, rejects on failure. LLM call
   * spans and deadline reports already stored are left out (insert-dedup.ts): call it with one
   * insert at a time per store, as the ingest's group commit does. Rows not yet encoded are encoded
   * in slices that yield to the event loop, so a large batch never stalls it.
   */
  insertSpans(rows: readonly SpanRow[]): Promise<void>;
  /** True when ClickHouse answers; never throws. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = '.llm-prism/data';
export const DEFAULT_DATABASE = 'otel';

/**
 * Applied to every query of `storage.client`: span timestamps are UTC text in both directions
 * whatever the server's time zone, and inserts are synchronous (chDB defaults to async_insert,
 * whose flush timer would delay every acknowledgement; callers batch instead). The new query
 * analyzer (the default since 24.3; `enable_analyzer` from 24.8 on, this older name still its alias)
 * even where the user's profile turns it off: the duplicate lookup of every insert, the repair of a
 * cut insert and the report's queries need it (docs/clickhouse.md).
 */
const SETTINGS: ClickHouseSettings = { session_timezone: 'UTC', async_insert: 0, allow_experimental_analyzer: 1 };

/** Inserts a JSONEachRow body into a table; rejects with a ClickHouseError (`type` set) on failure. */
type RawInsert = (table: string, body: Buffer, settings: ClickHouseSettings) => Promise<void>;

/**
 * How long one migration statement may run on a server: backfills, `OPTIMIZE … FINAL` and
 * `MODIFY TTL` take as long as the data they read. A client that gave up sooner would fail the
 * migration while the server carried on, and a retry then could run a backfill beside the first.
 */
const MIGRATION_TIMEOUT_MS = 6 * 60 * 60_000;
/**
 * The migration client's connection. No progress headers, which clickhouse-js suggests for long
 * statements: once one is sent the status is 200, and an error after it reaches only the body,
 * which `command()` does not read — a failed backfill would be recorded as applied. So a proxy that
 * drops idle connections cuts a long statement (docs/clickhouse.md). `ON CLUSTER` statements wait
 * for every host as long as a statement may take. Like the query client it logs nothing of its own
 * (its advice on progress headers included): errors reach the caller.
 */
const MIGRATION_CONNECTION = {
  request_timeout: MIGRATION_TIMEOUT_MS,
  log: { level: ClickHouseLogLevel.OFF },
  clickhouse_settings: { ...SETTINGS, distributed_ddl_task_timeout: String(MIGRATION_TIMEOUT_MS / 1000) },
} satisfies Partial<ClickHouseClientConfigOptions>;

interface Connected {
  client: ClickHouseClient;
  /** A server: a client of its own for migrations (MIGRATION_TIMEOUT_MS); closed by its user. */
  migrationClient?: () => ClickHouseClient;
  /**
   * chDB only: its native insert takes the body as a Buffer without a copy, where the client's
   * connection would build one JS string of the whole batch first (twice the time of the insert
   * itself on 20 000 spans). A server gets the same body through the client's exec.
   */
  rawInsert?: RawInsert;
  /** chDB only: the process that dies in the middle of an insert is the database too (cut-inserts.ts). */
  journal?: InsertJournal;
}

/**
 * Runs `start` with the process's time zone set to UTC, then restores it: the embedded engine
 * takes the zone it starts in as its server's, and prunes partitions by dates in that zone, where
 * every partition holds a UTC date (inserts run with `session_timezone = 'UTC'`) — a reader in New
 * York found nothing of a range ending early in a UTC day. Synchronous, so no other code of the
 * process runs while the zone is changed.
 */
function onUtc<T>(start: () => T): T {
  const zone = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    return start();
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
}

async function connect(opts: StorageOptions): Promise<Connected> {
  if (opts.url !== undefined) {
    const server = { url: opts.url, username: opts.username ?? 'default', password: opts.password ?? '', clickhouse_settings: SETTINGS };
    // Errors reach the caller as they are; the client's own log of each would print them again, at length.
    const client = createClient({ ...server, log: { level: ClickHouseLogLevel.OFF }, ...(opts.requestTimeoutMs !== undefined && { request_timeout: opts.requestTimeoutMs }) });
    return { client, migrationClient: () => createClient({ ...server, ...MIGRATION_CONNECTION }) };
  }
  const dataDir = resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const chdb = onUtc(() => createChdbConnection({ path: dataDir }));
  // chdb types its connection against @clickhouse/client-common, whose settings type differs
  // nominally from the copy bundled in @clickhouse/client 1.23; the runtime contract is the same.
  const connection = chdb as unknown as ClickHouseClientConfigOptions['connection'];
  const client = createClient({ connection, clickhouse_settings: SETTINGS });
  const rawInsert: RawInsert = async (table, body, settings) => {
    try {
      await chdb.chdb.rawInsert({ table, values: body, format: 'JSONEachRow', settings: { ...SETTINGS, ...settings } as Record<string, string | number | boolean> });
    } catch (err) {
      // A closed connection: the error the client's own calls give ("ChdbConnection is closed").
      const ping = await client.ping();
      if (!ping.success) throw ping.error;
      // The same error shape as the client's (`type`, `code`), which storage errors are classified by.
      const mapped = parseError((err as Error).message ?? String(err));
      if (mapped !== err) (mapped as Error).cause = err;
      throw mapped;
    }
  };
  return { client, rawInsert, journal: new InsertJournal(dataDir, opts.database ?? DEFAULT_DATABASE) };
}

/** Connects, creates the database if needed and applies pending migrations. */
export async function openStorage(opts: StorageOptions = {}): Promise<Storage> {
  const ctx: DdlContext = {
    database: opts.database ?? DEFAULT_DATABASE,
    cluster: opts.cluster === undefined ? undefined : validateCluster(opts.cluster),
    retentionDays: opts.retentionDays === undefined ? undefined : validateRetentionDays(opts.retentionDays),
  };
  quote(ctx.database); // reject a bad name before connecting
  const insertQuorum = opts.insertQuorum === undefined ? undefined : validateInsertQuorum(opts.insertQuorum);
  if (opts.requestTimeoutMs !== undefined && !(Number.isInteger(opts.requestTimeoutMs) && opts.requestTimeoutMs > 0)) {
    throw new Error(`requestTimeoutMs must be a whole number of milliseconds above 0, got ${opts.requestTimeoutMs}`);
  }
  const { client, migrationClient, rawInsert, journal } = await connect(opts);
  const spansTable = qualified(ctx, OTEL_TRACES);
  // On a cluster otel_traces is Distributed, which by default queues rows on the receiving node and
  // forwards them later: insert in the foreground so "stored" means stored on the owning shard.
  const insertSettings: ClickHouseSettings = {
    ...(ctx.cluster === undefined ? {} : { distributed_foreground_insert: 1 }),
    ...quorumSettings(insertQuorum),
  };
  const storage: Storage = {
    client,
    database: ctx.database,
    async migrate() {
      const ddl = migrationClient?.() ?? client;
      try {
        const applied = await applyMigrations(ddl, ctx);
        await applyRetention(ddl, ctx);
        await applyFsync(ddl, ctx, opts.fsync);
        if (journal) await repairCutInsert(client, ctx, journal);
        return applied;
      } finally {
        // A failure to close must not hide the migration's own error.
        if (ddl !== client) await ddl.close().catch(() => {});
      }
    },
    async insertSpans(rows) {
      if (rows.length === 0) return;
      const fresh = await withoutStoredCalls(client, ctx, rows);
      if (fresh.length === 0) return;
      const body = await encodeJsonEachRow(fresh);
      // chDB's raw insert takes the name unquoted (it checks it is an identifier, as quote() did).
      if (rawInsert) {
        const insert = () => rawInsert(`${ctx.database}.${OTEL_TRACES}`, body, insertSettings);
        return journal ? journal.around(fresh, insert) : insert();
      }
      const { stream } = await client.exec({
        query: `INSERT INTO ${spansTable} FORMAT JSONEachRow`,
        values: Readable.from([body]),
        clickhouse_settings: insertSettings,
      });
      stream.resume();
    },
    async ping() {
      try {
        return (await client.ping()).success;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
  try {
    if (opts.migrate !== false) await storage.migrate();
  } catch (error) {
    await client.close();
    throw error;
  }
  return storage;
}
