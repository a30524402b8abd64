// DDL builders shared by the migrations: the same table definition yields one MergeTree table
// (embedded or single server) or, with a cluster, ON CLUSTER Replicated*MergeTree `<name>_local`
// tables behind Distributed tables that keep the public name.

export interface DdlContext {
  database: string;
  cluster?: string | undefined;
  retentionDays?: number | undefined;
}

export type MergeTreeEngine = 'MergeTree' | 'ReplacingMergeTree' | 'AggregatingMergeTree' | 'SummingMergeTree';

export interface TableSpec {
  name: string;
  /** Column and index definitions, the text between the parentheses. */
  columns: string;
  engine: MergeTreeEngine;
  /** PARTITION BY / ORDER BY / TTL / SETTINGS. */
  body: string;
  /** Distributed sharding key; without one the Distributed table is read-only (rows arrive through views). */
  shardingKey?: string;
  /** false: on a cluster, one replicated table under the public name spanning every shard, no
   * Distributed table (small bookkeeping tables every node reads locally). Default true. */
  sharded?: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLUSTER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Back-quoted identifier; names are validated because DDL cannot take query parameters. */
export function quote(identifier: string): string {
  if (!IDENTIFIER.test(identifier)) throw new Error(`invalid ClickHouse identifier: ${JSON.stringify(identifier)}`);
  return `\`${identifier}\``;
}

export function validateCluster(cluster: string): string {
  if (!CLUSTER_NAME.test(cluster)) throw new Error(`invalid ClickHouse cluster name: ${JSON.stringify(cluster)}`);
  return cluster;
}

export function onCluster(ctx: DdlContext): string {
  return ctx.cluster === undefined ? '' : ` ON CLUSTER \`${validateCluster(ctx.cluster)}\``;
}

/** The table rows are physically written to: `<name>_local` on a cluster. */
export function localName(ctx: DdlContext, name: string): string {
  return ctx.cluster === undefined ? name : `${name}_local`;
}

export function qualified(ctx: DdlContext, name: string): string {
  return `${quote(ctx.database)}.${quote(name)}`;
}

/** Where materialized views read from and write to: the local table on each node. */
export function localTable(ctx: DdlContext, name: string): string {
  return qualified(ctx, localName(ctx, name));
}

export function createDatabase(ctx: DdlContext): string {
  return `CREATE DATABASE IF NOT EXISTS ${quote(ctx.database)}${onCluster(ctx)}`;
}

function engine(ctx: DdlContext, spec: TableSpec): string {
  if (ctx.cluster === undefined) return `${spec.engine}()`;
  const path = spec.sharded === false ? '/clickhouse/tables/{database}/{table}' : '/clickhouse/tables/{shard}/{database}/{table}';
  return `Replicated${spec.engine}('${path}', '{replica}')`;
}

/** CREATE statements for one logical table (two on a cluster: local + Distributed). */
export function table(ctx: DdlContext, spec: TableSpec): string[] {
  const name = spec.sharded === false ? qualified(ctx, spec.name) : localTable(ctx, spec.name);
  const local = `CREATE TABLE IF NOT EXISTS ${name}${onCluster(ctx)}
(${spec.columns}
)
ENGINE = ${engine(ctx, spec)}
${spec.body}`;
  if (ctx.cluster === undefined || spec.sharded === false) return [local];
  const args = [`'${ctx.cluster}'`, `'${ctx.database}'`, `'${localName(ctx, spec.name)}'`];
  if (spec.shardingKey !== undefined) args.push(spec.shardingKey);
  const distributed = `CREATE TABLE IF NOT EXISTS ${qualified(ctx, spec.name)}${onCluster(ctx)}
AS ${localTable(ctx, spec.name)}
ENGINE = Distributed(${args.join(', ')})`;
  return [local, distributed];
}

/** A materialized view; on a cluster it lives on every node and moves rows between local tables. */
export function materializedView(ctx: DdlContext, view: { name: string; to: string; select: string }): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(ctx, view.name)}${onCluster(ctx)}
TO ${localTable(ctx, view.to)}
AS ${view.select}`;
}

/**
 * Columns added to one logical table by a later migration (`definitions`: `Name Type [AFTER Col]`);
 * on a cluster the local tables first, then the Distributed table over them.
 */
export function addColumns(ctx: DdlContext, name: string, definitions: string[], spec: { sharded?: boolean } = {}): string[] {
  const add = definitions.map((d) => `ADD COLUMN IF NOT EXISTS ${d}`).join(', ');
  const alter = (target: string) => `ALTER TABLE ${target}${onCluster(ctx)} ${add}`;
  if (ctx.cluster === undefined || spec.sharded === false) return [alter(qualified(ctx, name))];
  return [alter(localTable(ctx, name)), alter(qualified(ctx, name))];
}

/** A materialized view's new SELECT, in place (no insert goes untransformed meanwhile). */
export function modifyViewQuery(ctx: DdlContext, view: { name: string; select: string }): string {
  return `ALTER TABLE ${qualified(ctx, view.name)}${onCluster(ctx)} MODIFY QUERY ${view.select}`;
}

/**
 * Adds a column to a table and appends it to the sorting key (ClickHouse allows a new column in
 * the key only in the ALTER that adds it; re-running with the column present changes nothing).
 * On a cluster the Distributed table gets the column too.
 */
export function addKeyColumn(ctx: DdlContext, spec: { table: string; column: string; after: string; orderBy: string }): string[] {
  const name = spec.column.split(' ')[0] as string;
  const local = `ALTER TABLE ${localTable(ctx, spec.table)}${onCluster(ctx)}
    ADD COLUMN IF NOT EXISTS ${spec.column} AFTER ${spec.after},
    MODIFY ORDER BY (${spec.orderBy}, ${name})`;
  if (ctx.cluster === undefined) return [local];
  return [local, `ALTER TABLE ${qualified(ctx, spec.table)}${onCluster(ctx)}
    ADD COLUMN IF NOT EXISTS ${spec.column} AFTER ${spec.after}`];
}

/**
 * A one-time backfill: `select` inserted into `name` only while the table is empty, so a migration
 * interrupted and run again does not count twice.
 */
export function backfillWhileEmpty(ctx: DdlContext, name: string, select: string): string {
  return `INSERT INTO ${qualified(ctx, name)}\nSELECT * FROM (\n${select}\n)\nWHERE (SELECT count() FROM ${qualified(ctx, name)}) = 0`;
}

export function dropView(ctx: DdlContext, name: string): string {
  return `DROP VIEW IF EXISTS ${qualified(ctx, name)}${onCluster(ctx)}`;
}
