// A process killed in the middle of an insert (embedded chDB dies with it). ClickHouse commits each
// table's part of one insert on its own, the views' tables included, in no fixed order, so a kill
// between two commits leaves a batch in some tables only; the exporters' re-send cannot mend that,
// because the insert leaves out calls llm_calls already holds (insert-dedup.ts). So each insert first
// writes which services and hours its counted spans fall in, and removes the note once the insert
// has returned. A note found at the next open names a window that may be cut: every derived table is
// rebuilt for it from otel_traces by re-inserting the window's spans through the views themselves,
// so the repair counts exactly as the live path does (docs/clickhouse.md, "A process killed in the
// middle of an insert"). Each step can be cut too: the repair starts again from the note and is
// idempotent (the spans are kept in a table of their own before anything is deleted).
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { costRollupSelect } from './cost-hours.ts';
import { type DdlContext, qualified } from './ddl.ts';
import { countedSpans } from './insert-dedup.ts';
import type { SpanRow } from './otel-traces.ts';
import { INSERTED_TABLE_TIME_COLUMNS, LLM_DUPLICATE_CALLS, LLM_DUPLICATE_HOURS, OTEL_TRACES } from './tables.ts';
import { HOUR_GRAIN, startOfGrain } from './time-grains.ts';
import { DUPLICATE_WINDOW_S } from './duplicate-calls.ts';

/** The services and UTC hours ('YYYY-MM-DD HH:00:00') an insert's counted spans fall in. */
export interface InsertWindow {
  services: string[];
  hours: string[];
}

/** The window of `rows`' LLM call spans and deadline reports; undefined when there are none. */
export function insertWindow(rows: readonly SpanRow[]): InsertWindow | undefined {
  const counted = countedSpans(rows);
  if (counted.length === 0) return undefined;
  return {
    services: [...new Set(counted.map((r) => r.ServiceName))],
    hours: [...new Set(counted.map((r) => `${r.Timestamp.slice(0, 13)}:00:00`))],
  };
}

/** The tables a window is rebuilt in, each with its time column: those an insert writes but the trace-id lookup (tables.ts). */
export const REBUILT_TABLES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(INSERTED_TABLE_TIME_COLUMNS).filter((entry): entry is [string, string] => entry[1] !== null),
);

/** The window's spans while a repair runs; a second name makes its copy all or nothing. */
const KEPT = '_llm_prism_cut_insert';
const COPYING = `${KEPT}_copying`;

/** A repair and the notes it mends. */
export interface Repair {
  window: InsertWindow;
  notes: string[];
}

/** Notes of the inserts in progress: one file each, in a directory inside the data directory. */
export class InsertJournal {
  readonly #dir: string;
  readonly #repairFile: string;
  /** This process's notes of inserts still running: never repaired under them. */
  readonly #live = new Set<string>();
  #made = false;
  /** `database`: one journal per database (several can share a data directory). */
  constructor(dataDir: string, database: string) {
    const home = join(dataDir, 'llm-prism', database);
    this.#dir = join(home, 'inserts-in-progress');
    this.#repairFile = join(home, 'repair.json');
  }

  /** Runs `insert` of `rows` with its window noted while it runs (nothing is noted for rows nothing counts). */
  async around<T>(rows: readonly SpanRow[], insert: () => Promise<T>): Promise<T> {
    const window = insertWindow(rows);
    if (window === undefined) return insert();
    const note = await this.begin(window);
    this.#live.add(note);
    try {
      return await insert();
    } finally {
      // A note left behind costs only a needless rebuild at the next open: never the insert's result.
      await rm(note, { force: true }).catch(() => undefined);
      this.#live.delete(note);
    }
  }

  /** Notes the window before the insert starts, written whole (a new file renamed into place); returns the note's path. */
  async begin(window: InsertWindow): Promise<string> {
    if (!this.#made) await mkdir(this.#dir, { recursive: true });
    this.#made = true;
    const note = join(this.#dir, `${randomUUID()}.json`);
    await writeFile(`${note}.new`, JSON.stringify(window));
    await rename(`${note}.new`, note);
    return note;
  }

  /** The union of the windows noted and not yet ended (by another process), with the notes it came from. */
  async pending(): Promise<Repair | undefined> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const notes = names.filter((name) => name.endsWith('.json')).map((name) => join(this.#dir, name)).filter((note) => !this.#live.has(note));
    if (notes.length === 0) return undefined;
    const windows = await Promise.all(notes.map(async (note) => JSON.parse(await readFile(note, 'utf8')) as InsertWindow));
    const union = (key: keyof InsertWindow) => [...new Set(windows.flatMap((w) => w[key]))].sort();
    return { window: { services: union('services'), hours: union('hours') }, notes };
  }

  /** Notes the repair about to start, so that a repair cut short is finished on the same window. */
  async startRepair(repair: Repair): Promise<Repair> {
    await writeFile(`${this.#repairFile}.new`, JSON.stringify(repair));
    await rename(`${this.#repairFile}.new`, this.#repairFile);
    return repair;
  }

  async repairing(): Promise<Repair | undefined> {
    try {
      return JSON.parse(await readFile(this.#repairFile, 'utf8')) as Repair;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** The repair is done: its notes go, then its own note. */
  async endRepair(repair: Repair): Promise<void> {
    await Promise.all(repair.notes.map((note) => rm(note, { force: true })));
    await rm(this.#repairFile, { force: true });
  }
}

/** Rebuilds the derived tables for the window of an insert that may have been cut; a no-op without one. */
export async function repairCutInsert(client: ClickHouseClient, ctx: DdlContext, journal: InsertJournal): Promise<InsertWindow | undefined> {
  const finish = async (repair: Repair) => {
    await rebuild(client, ctx, repair.window);
    await journal.endRepair(repair);
    return repair.window;
  };
  // A repair cut short is finished first, with the window it started on; then the notes it did not cover.
  const resumed = await journal.repairing();
  const resumedWindow = resumed && (await finish(resumed));
  const pending = await journal.pending();
  return pending ? finish(await journal.startRepair(pending)) : resumedWindow;
}

/** The window's hours (malformed ones match nothing), and each with the hour after it. */
const HOURS = 'arrayMap(h -> toDateTimeOrNull(h), {hours:Array(String)})';
const HOURS_AND_NEXT = `arrayConcat(${HOURS}, arrayMap(h -> h + INTERVAL 1 HOUR, ${HOURS}))`;
const inWindow = (column: string, hours = HOURS) => `ServiceName IN {services:Array(String)} AND ${startOfGrain(HOUR_GRAIN, column)} IN ${hours}`;

async function rebuild(client: ClickHouseClient, ctx: DdlContext, window: InsertWindow): Promise<void> {
  const params = { services: window.services, hours: window.hours };
  const command = (query: string) => client.command({ query, query_params: params, clickhouse_settings: { mutations_sync: '2', lightweight_deletes_sync: '2' } });
  const kept = qualified(ctx, KEPT);
  const copying = qualified(ctx, COPYING);
  const tables = await client.query({
    query: 'SELECT name FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    query_params: { db: ctx.database, name: KEPT },
    format: 'JSONEachRow',
  });

  // 1. Keep the window's spans (each once) before anything is deleted.
  if ((await tables.json()).length === 0) {
    await command(`DROP TABLE IF EXISTS ${copying}`);
    await command(`CREATE TABLE ${copying} ENGINE = MergeTree ORDER BY tuple() AS
SELECT * FROM ${qualified(ctx, OTEL_TRACES)} WHERE ${inWindow('Timestamp')} LIMIT 1 BY TraceId, SpanId`);
    await command(`RENAME TABLE ${copying} TO ${kept}`);
  }
  // 2. Delete the window from every table an insert writes, then insert the spans again: the views
  // derive every table's rows for those hours as they did when the spans first came.
  for (const [name, column] of Object.entries(REBUILT_TABLES)) {
    await command(`DELETE FROM ${qualified(ctx, name)} WHERE ${inWindow(column)}`);
  }
  await command(`INSERT INTO ${qualified(ctx, OTEL_TRACES)} SELECT * FROM ${kept}`);
  // 3. The view marking duplicates also marks a stored call that a re-inserted one now precedes (a
  // late arrival, duplicate-calls.ts): calls in the minute after the window, marked already, are
  // now marked twice. Keep each once, and sum those hours' duplicates again.
  const duplicates = qualified(ctx, LLM_DUPLICATE_CALLS);
  const twice = await client.query({
    query: `SELECT DISTINCT _partition_id AS p FROM ${duplicates}
WHERE ServiceName IN {services:Array(String)} AND arrayExists(h -> Timestamp >= h + INTERVAL 1 HOUR AND Timestamp < h + INTERVAL 1 HOUR + INTERVAL ${DUPLICATE_WINDOW_S + 1} SECOND, ${HOURS})
GROUP BY _partition_id, TraceId, SpanId HAVING count() > 1`,
    query_params: params,
    format: 'JSONEachRow',
  });
  for (const { p } of await twice.json<{ p: string }>()) {
    // A partition id is ClickHouse's own (e.g. 202611); the filter only keeps the statement well formed.
    await command(`OPTIMIZE TABLE ${duplicates} PARTITION ID '${p.replace(/[^0-9A-Za-z_-]/g, '')}' FINAL`);
  }
  const duplicateHours = qualified(ctx, LLM_DUPLICATE_HOURS);
  await command(`DELETE FROM ${duplicateHours} WHERE ${inWindow('Hour', HOURS_AND_NEXT)}`);
  await command(`INSERT INTO ${duplicateHours} ${costRollupSelect(`(SELECT * FROM ${duplicates} FINAL WHERE ${inWindow('Timestamp', HOURS_AND_NEXT)})`)}`);
  // 4. Done: the kept spans go.
  await command(`DROP TABLE ${kept}`);
}
