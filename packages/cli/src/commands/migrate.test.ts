import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));

async function migrate(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [bin, 'migrate', ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
}

describe('llm-prism migrate', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await tempDataDir();
  });

  test('applies every migration once, then reports the schema up to date', async () => {
    const first = await migrate(['--data-dir', dataDir, '--retention-days', '30']);
    expect(first.stdout).toBe(
      [
        `schema in embedded chDB in ${dataDir}, database otel`,
        'applied 1: otel_traces (Collector exporter schema) and trace-id lookup',
        'applied 2: llm_calls and its view from otel_traces',
        'applied 3: per-minute SLO rollups llm_ttft_minute and llm_completion_minute',
        'applied 4: SLO rollups count aborted calls (llm_ttft_minute.Abandoned, llm_completion_minute.Aborted)',
        'applied 5: llm_calls_mv reads inf and nan attributes as absent',
        'applied 6: llm_calls.ClientSetupMs (llm.client_setup_ms) and its view',
        'applied 7: SLO rollups count a call without output at its TTFT deadline while it hangs (llm.ttft_deadline spans)',
        'applied 8: llm_calls.PromptHash (llm.prompt.hash) for duplicate calls',
        'applied 9: SLO rollups as plain counts (llm_ttft_counts, llm_completion_counts; llm_calls.TtftDeadlineExceeded): exactly-once at insert',
        'applied 10: hourly rollups llm_call_hours and llm_latency_hours for long dashboard ranges',
        'applied 11: hourly cost rollup llm_cost_hours (token sums per price-determining group) for the cost queries',
        'applied 12: llm_duplicate_calls: calls repeating a prompt within 60 s, marked at insert by a view on llm_calls, and those already stored',
        'applied 13: llm_duplicate_hours: the duplicates summed per hour and cost group; llm_duplicate_calls_mv marks each duplicate once',
        'applied 14: minute rollups llm_cost_minutes and llm_latency_minutes for time series with buckets shorter than an hour',
        "applied 15: llm_calls_mv leaves out another instrumentation's call span whose model request an LLM Prism call span measures (llm.measured_by)",
        'applied 16: llm_calls_mv rounds a first-chunk time given in seconds (gen_ai.response.time_to_first_chunk) to the nanosecond once in ms',
        'retention: 30 days for spans, LLM calls and the minute rollups, 400 days for the SLO and hourly rollups',
        '',
      ].join('\n'),
    );
    // The data directory comes from LLM_PRISM_DATA_DIR when --data-dir is absent.
    const second = await migrate([], { LLM_PRISM_DATA_DIR: dataDir });
    expect(second.stdout).toBe(`schema in embedded chDB in ${dataDir}, database otel\nup to date at version 16\n`);
  });

  test('--print-ddl prints the cluster DDL without connecting', async () => {
    const { stdout } = await migrate(['--print-ddl', '--cluster', 'prism', '--clickhouse-url', 'http://127.0.0.1:9/']);
    const statements = stdout.trim().split(';\n\n');
    expect(statements).toHaveLength(84);
    // Migrations 9 to 14's one-time recounts are INSERT … SELECT through the Distributed tables.
    expect(statements.filter((s) => !s.includes(' ON CLUSTER `prism`')).map((s) => s.split(/ \(|\n/)[0])).toEqual([
      'INSERT INTO `otel`.`llm_ttft_counts`',
      'INSERT INTO `otel`.`llm_completion_counts`',
      'INSERT INTO `otel`.`llm_call_hours`',
      'INSERT INTO `otel`.`llm_latency_hours`',
      'INSERT INTO `otel`.`llm_cost_hours`',
      'INSERT INTO `otel`.`llm_duplicate_calls`',
      'INSERT INTO `otel`.`llm_duplicate_hours`',
      'INSERT INTO `otel`.`llm_cost_minutes`',
      'INSERT INTO `otel`.`llm_latency_minutes`',
    ]);
    expect(stdout).toContain("ENGINE = Distributed('prism', 'otel', 'llm_calls_local', cityHash64(TraceId))");
  });

  test.each(['-3', '2001'])('a bad --retention-days (%s) is refused with a message', async (days) => {
    await expect(migrate(['--data-dir', dataDir, '--retention-days', days])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`retention must be a whole number of days from 1 to 2000, got ${days}`),
    });
  });

  test('an unreachable server fails with a message naming it, exit code 1', async () => {
    const failure = await migrate(['--clickhouse-url', 'http://127.0.0.1:9/', '--password', 'secret'], {
      LLM_PRISM_CLICKHOUSE_USER: 'alice',
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/cannot migrate ClickHouse at http:\/\/127\.0\.0\.1:9, database otel: .*ECONNREFUSED/),
    });
    expect(failure).not.toMatchObject({ stderr: expect.stringContaining('secret') });
  });

  describe('the migrated data directory', () => {
    let storage: Storage;
    beforeAll(async () => {
      storage = await openStorage({ dataDir, migrate: false });
    });
    afterAll(async () => {
      await storage.close();
    });

    test('holds the schema with the retention asked for', async () => {
      const result = await storage.client.query({ query: 'SHOW CREATE TABLE otel.llm_calls', format: 'JSONEachRow' });
      const [row] = await result.json<{ statement: string }>();
      expect(row!.statement).toContain('TTL toDateTime(Timestamp) + toIntervalDay(30)');
      expect(await storage.migrate()).toEqual([]);
    });
  });
});
