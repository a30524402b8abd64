// Durability of an acknowledged insert. By default ClickHouse writes a part's files and renames it
// into place without fsync: an insert that has returned survives a killed process (the page cache
// keeps it) but not a power loss or kernel crash. `fsync` turns on the MergeTree settings that
// fsync the part's files and directory before the insert returns, on every table an insert of
// spans writes (the views' targets included, so derived tables stay consistent with otel_traces).
// On a cluster, `insertQuorum` makes the insert wait for that many replicas of the shard.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { type DdlContext, localName, localTable, onCluster } from './ddl.ts';
import { INSERTED_TABLE_TIME_COLUMNS } from './tables.ts';

/** Tables an insert into otel_traces writes, directly or through views (tables.ts). */
export const INSERTED_TABLES: string[] = Object.keys(INSERTED_TABLE_TIME_COLUMNS);

/** `insert_quorum`: a number of replicas, or 'auto' (a majority of the shard's replicas). */
export type InsertQuorum = number | 'auto';

export function validateInsertQuorum(quorum: InsertQuorum): InsertQuorum {
  if (quorum !== 'auto' && (!Number.isInteger(quorum) || quorum < 1)) {
    throw new Error(`insert quorum must be a positive whole number of replicas or 'auto', got ${quorum}`);
  }
  return quorum;
}

/** Settings of every span insert for a quorum (none without one). */
export function quorumSettings(quorum: InsertQuorum | undefined): ClickHouseSettings {
  return quorum === undefined ? {} : { insert_quorum: String(quorum) };
}

/**
 * Turns fsync on or off (`fsync_after_insert`, `fsync_part_directory`) on the inserted tables whose
 * setting differs; returns the tables altered. Undefined leaves the tables as they are.
 */
export async function applyFsync(client: ClickHouseClient, ctx: DdlContext, fsync: boolean | undefined): Promise<string[]> {
  if (fsync === undefined) return [];
  const result = await client.query({
    query: 'SELECT name, engine_full FROM system.tables WHERE database = {database:String}',
    query_params: { database: ctx.database },
    format: 'JSONEachRow',
  });
  const engines = new Map((await result.json<{ name: string; engine_full: string }>()).map((t) => [t.name, t.engine_full]));
  const value = fsync ? 1 : 0;
  const altered: string[] = [];
  for (const table of INSERTED_TABLES) {
    const engine = engines.get(localName(ctx, table));
    if (engine === undefined) continue;
    const current = /\bfsync_after_insert = (\d)/.exec(engine)?.[1] ?? '0';
    const directory = /\bfsync_part_directory = (\d)/.exec(engine)?.[1] ?? '0';
    if (current === String(value) && directory === String(value)) continue;
    await client.command({
      query: `ALTER TABLE ${localTable(ctx, table)}${onCluster(ctx)} MODIFY SETTING fsync_after_insert = ${value}, fsync_part_directory = ${value}`,
    });
    altered.push(table);
  }
  return altered;
}
