import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { migrations, schemaDdl } from './migrations.ts';
import { openStorage, type Storage } from './storage.ts';
import { tempDataDir } from './testing.ts';

const cluster = schemaDdl({ database: 'otel', cluster: 'prism', retentionDays: 14 });
const single = schemaDdl({ database: 'otel' });
/** What each statement creates, alters or drops. */
const created = (statements: string[]): string[] =>
  statements.map(
    (s) => /^(?:CREATE (?:TABLE|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS|ALTER TABLE|DROP VIEW IF EXISTS|INSERT INTO|TRUNCATE TABLE IF EXISTS|OPTIMIZE TABLE) (\S+)/.exec(s)?.[1] ?? s.slice(0, 40),
  );
/** Migrations 9 to 14's one-time recounts: INSERT … SELECT through the Distributed tables, not DDL. */
const isInsert = (s: string): boolean => s.startsWith('INSERT INTO');

describe('cluster DDL', () => {
  test('every statement runs ON CLUSTER', () => {
    expect(cluster.filter((s) => !isInsert(s) && !s.includes(' ON CLUSTER `prism`'))).toEqual([]);
    expect(created(cluster.filter(isInsert))).toEqual(['`otel`.`llm_ttft_counts`', '`otel`.`llm_completion_counts`', '`otel`.`llm_call_hours`', '`otel`.`llm_latency_hours`', '`otel`.`llm_cost_hours`', '`otel`.`llm_duplicate_calls`', '`otel`.`llm_duplicate_hours`', '`otel`.`llm_cost_minutes`', '`otel`.`llm_latency_minutes`']);
  });

  test('local Replicated tables, Distributed tables under the public names', () => {
    expect(created(cluster)).toEqual([
      '`otel`',
      '`otel`.`schema_migrations`',
      '`otel`.`otel_traces_local`',
      '`otel`.`otel_traces`',
      '`otel`.`otel_traces_trace_id_ts_local`',
      '`otel`.`otel_traces_trace_id_ts`',
      '`otel`.`otel_traces_trace_id_ts_mv`',
      '`otel`.`llm_calls_local`',
      '`otel`.`llm_calls`',
      '`otel`.`llm_calls_mv`',
      '`otel`.`llm_ttft_minute_local`',
      '`otel`.`llm_ttft_minute`',
      '`otel`.`llm_ttft_minute_mv`',
      '`otel`.`llm_completion_minute_local`',
      '`otel`.`llm_completion_minute`',
      '`otel`.`llm_completion_minute_mv`',
      // migration 4: a key column on the local table and the Distributed one, the view replaced
      '`otel`.`llm_ttft_minute_local`',
      '`otel`.`llm_ttft_minute`',
      '`otel`.`llm_ttft_minute_mv2`',
      '`otel`.`llm_ttft_minute_mv`',
      '`otel`.`llm_completion_minute_local`',
      '`otel`.`llm_completion_minute`',
      '`otel`.`llm_completion_minute_mv2`',
      '`otel`.`llm_completion_minute_mv`',
      '`otel`.`llm_calls_mv`', // migration 5: MODIFY QUERY
      // migration 6: a column on the local table and the Distributed one, the view's query again
      '`otel`.`llm_calls_local`',
      '`otel`.`llm_calls`',
      '`otel`.`llm_calls_mv`',
      // migration 7: the views of llm.ttft_deadline spans
      '`otel`.`llm_ttft_minute_deadline_mv`',
      '`otel`.`llm_completion_minute_deadline_mv`',
      // migration 8: a column on the local table and the Distributed one, the view's query again
      '`otel`.`llm_calls_local`',
      '`otel`.`llm_calls`',
      '`otel`.`llm_calls_mv`',
      // migration 9: TtftDeadlineExceeded as migration 8 added its column; the count rollups, their
      // one-time recount, their views; the old views dropped and the old tables emptied
      '`otel`.`llm_calls_local`',
      '`otel`.`llm_calls`',
      '`otel`.`llm_calls_mv`',
      '`otel`.`llm_ttft_counts_local`',
      '`otel`.`llm_ttft_counts`',
      '`otel`.`llm_completion_counts_local`',
      '`otel`.`llm_completion_counts`',
      '`otel`.`llm_ttft_counts`',
      '`otel`.`llm_completion_counts`',
      '`otel`.`llm_ttft_counts_mv`',
      '`otel`.`llm_ttft_counts_deadline_mv`',
      '`otel`.`llm_completion_counts_mv`',
      '`otel`.`llm_completion_counts_deadline_mv`',
      '`otel`.`llm_ttft_minute_mv2`',
      '`otel`.`llm_ttft_minute_deadline_mv`',
      '`otel`.`llm_completion_minute_mv2`',
      '`otel`.`llm_completion_minute_deadline_mv`',
      '`otel`.`llm_ttft_minute_local`',
      '`otel`.`llm_completion_minute_local`',
      // …then, applied on the way up, one FINAL merge of the calls (a re-sent span stored twice before)
      '`otel`.`llm_calls_local`',
      // migration 10: the hourly rollups, their views, their one-time backfill
      '`otel`.`llm_call_hours_local`',
      '`otel`.`llm_call_hours`',
      '`otel`.`llm_latency_hours_local`',
      '`otel`.`llm_latency_hours`',
      '`otel`.`llm_call_hours_mv`',
      '`otel`.`llm_latency_hours_mv`',
      '`otel`.`llm_call_hours`',
      '`otel`.`llm_latency_hours`',
      // migration 11: the cost rollup, its view, its one-time backfill
      '`otel`.`llm_cost_hours_local`',
      '`otel`.`llm_cost_hours`',
      '`otel`.`llm_cost_hours_mv`',
      '`otel`.`llm_cost_hours`',
      // migration 12: the duplicate calls, their view, the backfill of those already stored
      '`otel`.`llm_duplicate_calls_local`',
      '`otel`.`llm_duplicate_calls`',
      '`otel`.`llm_duplicate_calls_mv`',
      '`otel`.`llm_duplicate_calls`',
      // migration 13: the duplicates' view marks each once; their hourly rollup, its view, its backfill
      '`otel`.`llm_duplicate_calls_mv`',
      '`otel`.`llm_duplicate_hours_local`',
      '`otel`.`llm_duplicate_hours`',
      '`otel`.`llm_duplicate_hours_mv`',
      '`otel`.`llm_duplicate_hours`',
      // migration 14: the minute rollups, their views, their one-time backfills
      '`otel`.`llm_cost_minutes_local`',
      '`otel`.`llm_cost_minutes`',
      '`otel`.`llm_latency_minutes_local`',
      '`otel`.`llm_latency_minutes`',
      '`otel`.`llm_cost_minutes_mv`',
      '`otel`.`llm_latency_minutes_mv`',
      '`otel`.`llm_cost_minutes`',
      '`otel`.`llm_latency_minutes`',
      // migration 15: the calls' view leaves out call spans measured by a child call of ours
      '`otel`.`llm_calls_mv`',
      // migration 16: the calls' view rounds a first-chunk time given in seconds
      '`otel`.`llm_calls_mv`',
    ]);
    expect(cluster.filter((s) => s.startsWith('ALTER TABLE')).map((s) => s.includes('MODIFY ORDER BY'))).toEqual([
      true, false, true, false, false, false, false, false, false, false, false, false, false, false, false, false, false,
    ]);
    const engines = cluster.map((s) => /ENGINE = (\w+\([^)]*\))/.exec(s)?.[1]).filter((e) => e !== undefined);
    expect(engines).toEqual([
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{database}/{table}', '{replica}')",
      "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'otel_traces_local', cityHash64(TraceId)",
      "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'otel_traces_trace_id_ts_local', cityHash64(TraceId)",
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_calls_local', cityHash64(TraceId)",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_ttft_minute_local')",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_completion_minute_local')",
      "ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_ttft_counts_local', rand()",
      "ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_completion_counts_local', rand()",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_call_hours_local', rand()",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_latency_hours_local', rand()",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_cost_hours_local', rand()",
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_duplicate_calls_local', cityHash64(TraceId)",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_duplicate_hours_local', rand()",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_cost_minutes_local', rand()",
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "Distributed('prism', 'otel', 'llm_latency_minutes_local', rand()",
    ]);
  });

  test('views read and write the local tables on each node', () => {
    const views = cluster.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
    expect(views.map((v) => [/\nTO (\S+)/.exec(v)?.[1], /\nFROM (\S+)/.exec(v)?.[1]])).toEqual([
      ['`otel`.`otel_traces_trace_id_ts_local`', '`otel`.`otel_traces_local`'],
      ['`otel`.`llm_calls_local`', '`otel`.`otel_traces_local`'],
      ['`otel`.`llm_ttft_minute_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_completion_minute_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_ttft_minute_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_completion_minute_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_ttft_minute_local`', '`otel`.`otel_traces_local`'],
      ['`otel`.`llm_completion_minute_local`', '`otel`.`otel_traces_local`'],
      ['`otel`.`llm_ttft_counts_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_ttft_counts_local`', '`otel`.`otel_traces_local`'],
      ['`otel`.`llm_completion_counts_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_completion_counts_local`', '`otel`.`otel_traces_local`'],
      ['`otel`.`llm_call_hours_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_latency_hours_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_cost_hours_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_duplicate_calls_local`', '('],
      ['`otel`.`llm_duplicate_hours_local`', '`otel`.`llm_duplicate_calls_local`'],
      ['`otel`.`llm_cost_minutes_local`', '`otel`.`llm_calls_local`'],
      ['`otel`.`llm_latency_minutes_local`', '`otel`.`llm_calls_local`'],
    ]);
    const modified = cluster.filter((s) => s.includes(' MODIFY QUERY '));
    expect(modified.map((v) => /\nFROM (\S+)/.exec(v)?.[1])).toEqual([...Array(4).fill('`otel`.`otel_traces_local`'), '(', ...Array(2).fill('`otel`.`otel_traces_local`')]);
    // The duplicates' view, as created (12) and as marking each once (13): the inserted block from
    // the local table, the stored calls of every shard.
    for (const duplicates of [views.find((v) => v.includes('\nTO `otel`.`llm_duplicate_calls_local`'))!, modified.find((v) => v.startsWith('ALTER TABLE `otel`.`llm_duplicate_calls_mv`'))!]) {
      expect(duplicates).toContain('FROM `otel`.`llm_calls_local` WHERE');
      expect(duplicates).toMatch(/FROM `otel`\.`llm_calls`\n/);
      // Each shard filters by the block's sets, sent along, not by its own llm_calls_local.
      expect(duplicates).toContain('(TraceId, SpanId) GLOBAL NOT IN (SELECT TraceId, SpanId FROM `otel`.`llm_calls_local`)');
    }
  });

  test('TTL sits on the local tables', () => {
    const withTtl = cluster.filter((s) => s.includes('\nTTL '));
    expect(created(withTtl)).toEqual([
      '`otel`.`otel_traces_local`',
      '`otel`.`otel_traces_trace_id_ts_local`',
      '`otel`.`llm_calls_local`',
      '`otel`.`llm_ttft_minute_local`',
      '`otel`.`llm_completion_minute_local`',
      '`otel`.`llm_ttft_counts_local`',
      '`otel`.`llm_completion_counts_local`',
      '`otel`.`llm_call_hours_local`',
      '`otel`.`llm_latency_hours_local`',
      '`otel`.`llm_cost_hours_local`',
      '`otel`.`llm_duplicate_calls_local`',
      '`otel`.`llm_duplicate_hours_local`',
      '`otel`.`llm_cost_minutes_local`',
      '`otel`.`llm_latency_minutes_local`',
    ]);
  });

  test('cluster and database names are validated', () => {
    expect(() => schemaDdl({ database: 'otel', cluster: "x' --" })).toThrow(/invalid ClickHouse cluster name/);
    expect(() => schemaDdl({ database: 'a-b' })).toThrow(/invalid ClickHouse identifier/);
  });
});

describe('applied migrations', () => {
  // Installs ran these statements already: a builder shared by several migrations (llm-calls.ts's
  // view query) must keep emitting each one's text. A schema change is a new migration instead.
  test('emit the same statements as when they were released', () => {
    const digest = (statements: string[]) => createHash('sha256').update(statements.join(';\n')).digest('hex').slice(0, 16);
    const released = migrations.map((m) => [m.version, digest(m.statements({ database: 'otel' })), digest(m.statements({ database: 'otel', cluster: 'prism', retentionDays: 14 }))]);
    expect(released).toEqual([
      [1, '6b6ddf840547e73b', '1a96e0b8f2d2b9e3'],
      [2, 'b133d13dc5988212', '14de1527c6accdfe'],
      [3, '615830023f1a6a72', '85672768ca9db764'],
      [4, 'd17dae8ca0ff7c03', '83c36fc8ee9ffb9b'],
      [5, 'eb5ee82e714e148e', '90e62e34f6603112'],
      [6, 'eb04ad0a24428060', '23a29a1a88abe075'],
      [7, '860f4867d9f2895b', 'b435b66d14a85a81'],
      [8, '6ce7a67b8bb832cd', 'ae96fda8ccd407b3'],
      [9, 'c2a795bb1cca0273', '3d572d204383db4d'],
      [10, '81ad99342c89993f', 'ab2398b50b5e875f'],
      [11, '7425983e01bd1a9b', '694a5317eaeab950'],
      [12, '37132a6a66a4339e', '5602510f4bf67ef1'],
      [13, '5610fbbfa3f200d6', '369ebd6af518b70d'],
      [14, 'fbce27da6e398f9e', 'c41fba72ec81a4a4'],
      [15, '0ac263694f04a76f', '110f85a5fef906f1'],
      [16, '2a525319f6e9882a', '5c5e5d2d5e694eae'],
    ]);
  });
});

describe('single-node DDL', () => {
  test('has no cluster clauses', () => {
    expect(single.filter((s) => /ON CLUSTER|Replicated|Distributed|_local/.test(s))).toEqual([]);
    expect(single.filter((s) => s.includes('TTL'))).toEqual([]);
  });
});

describe('ClickHouse 26.7 (chDB) parses the cluster DDL', () => {
  // ON CLUSTER needs Keeper and remote_servers, which embedded chDB has not: parse, do not run.
  let storage: Storage;
  beforeAll(async () => {
    storage = await openStorage({ dataDir: await tempDataDir() });
  });
  afterAll(async () => {
    await storage.close();
  });

  test.each(cluster.map((statement) => [created([statement])[0], statement]))('%s', async (_name, statement) => {
    const result = await storage.client.query({
      query: 'SELECT formatQuery({statement:String}) AS formatted',
      query_params: { statement },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ formatted: string }>();
    if (isInsert(statement)) expect(row!.formatted).toMatch(/^INSERT INTO otel\.llm_\w+_(counts|hours|calls|minutes) /);
    else expect(row!.formatted).toMatch(/ON CLUSTER prism/);
  });

  test('the views compile with the old and the new analyzer (servers may run either)', async () => {
    const selects = [
      ...single.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW')).map((s) => s.slice(s.indexOf('\nAS ') + 4)),
      ...single.filter((s) => s.includes(' MODIFY QUERY ')).map((s) => s.slice(s.indexOf(' MODIFY QUERY ') + 14)),
    ];
    // Migrations 9 to 14's one-time recounts run once, on whichever analyzer the server has.
    selects.push(...single.filter(isInsert).map((s) => s.slice(s.indexOf('\nSELECT ') + 1)));
    expect(selects).toHaveLength(35);
    // chDB turns per-query settings into session SETs: end on the default (new analyzer). The
    // storage client asks for the new analyzer by this name on every query: the same key overrides it.
    for (const allow_experimental_analyzer of [0, 1] as const) {
      const [on] = await (
        await storage.client.query({ query: "SELECT getSetting('enable_analyzer') AS on", format: 'JSONEachRow', clickhouse_settings: { allow_experimental_analyzer } })
      ).json<{ on: boolean }>();
      expect(on!.on).toBe(allow_experimental_analyzer === 1);
      for (const query of selects) {
        await expect(storage.client.query({ query, clickhouse_settings: { allow_experimental_analyzer } })).resolves.toBeDefined();
      }
    }
  });

  test('a syntax error would be caught', async () => {
    await expect(
      storage.client.query({ query: 'SELECT formatQuery({s:String})', query_params: { s: 'CREATE TABLE x ON CLUSTER (a String)' } }),
    ).rejects.toThrow(/Syntax error/);
  });
});
