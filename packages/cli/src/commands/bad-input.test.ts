// Bad command-line input gets one line saying what is wrong and exit 1 — never a stack trace, and
// never a run on a value that means something else (an empty port, an empty token, a range that
// is empty or before the epoch, a time `Date.parse` guesses at). Found by probing every command.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { startServe, stopServe } from '../../test/serve-process.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llm-prism-bad-input-'));
});

/** The failed run's exit code and stderr. */
async function failure(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const result = await run(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, ...env }, timeout: 60_000 }).catch((error: { code: number; stderr: string }) => error);
  expect(result, `llm-prism ${args.join(' ')} succeeded`).toHaveProperty('code');
  return result as { code: number; stderr: string };
}

describe('bad input is one line of error, exit 1, no stack trace', () => {
  test.each<[string, string[], Record<string, string>, RegExp]>([
    ['a ClickHouse URL that is not http(s) (migrate)', ['migrate', '--clickhouse-url', 'ftp://127.0.0.1:8123'], {}, /expected an http:\/\/ or https:\/\/ URL/],
    ['a ClickHouse URL that is not http(s) (report)', ['report', '--clickhouse-url', 'ftp://127.0.0.1:8123'], {}, /expected an http:\/\/ or https:\/\/ URL/],
    ['a ClickHouse URL without its scheme (serve: said "at null" first)', ['serve', '--clickhouse-url', 'localhost:8123'], {}, /^error: .*expected an http:\/\/ or https:\/\/ URL/],
    ['a database name that is not an identifier', ['migrate', '--print-ddl', '--database', 'bad name'], {}, /^llm-prism migrate: invalid ClickHouse identifier/],
    ['an empty LLM_PRISM_DATA_DIR (would be the current directory)', ['report'], { LLM_PRISM_DATA_DIR: '' }, /expected a directory, got an empty value/],
    ['an empty LLM_PRISM_CLICKHOUSE_URL', ['report'], { LLM_PRISM_CLICKHOUSE_URL: '' }, /expected a URL, got an empty value/],
    ['a look back past the epoch', ['report', '--since', '99999999999d'], {}, /expected a duration such as 30m, 24h or 7d/],
    ['a time that is not ISO 8601 (Date.parse reads "1" as 2001)', ['report', '--from', '1'], {}, /expected an ISO 8601 time/],
    ['a range that ends before it starts', ['report', '--from', '2026-01-02T00:00:00Z', '--to', '2026-01-01T00:00:00Z'], {}, /^llm-prism report: the range is empty/],
    ['a date that does not exist (Date.parse read 2026-02-30 as March 2nd)', ['report', '--from', '2026-02-30'], {}, /no such date: 2026-02-30/],
    ['a time beyond what the queries hold (a ClickHouse overflow message before)', ['report', '--from', '0001-01-01'], {}, /expected a time from 1970 to 2105/],
    ['an empty service (an unset $SVC: every service reported)', ['report', '--service', ''], {}, /expected a service name, got an empty value/],
    ['a ClickHouse server nobody answers at: our line first (the client logged 22 lines of its own before it)', ['report', '--clickhouse-url', 'http://127.0.0.1:1'], {}, /^llm-prism report: connect ECONNREFUSED 127\.0\.0\.1:1\n$/],
    ['an empty port (an unset $PORT: a random port)', ['serve', '--port', ''], {}, /expected a port number from 0 to 65535/],
    ['a port beyond 65535', ['serve', '--port', '70000'], {}, /expected a port number from 0 to 65535/],
    ['an empty token (an unset $TOKEN: every exporter refused)', ['serve', '--token', ''], {}, /expected a token, got an empty value/],
    ['an empty second of the minute (slo drill: read as 0 before)', ['slo', 'drill', '--evaluation-second', ''], {}, /expected an integer from 0 to 59/],
  ])('%s', async (_name, args, env, message) => {
    const { code, stderr } = await failure(args, env);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  test('slo generate into a path that is a file', async () => {
    const file = join(dir, 'afile');
    await writeFile(file, 'x');
    const config = fileURLToPath(new URL('../../../demo/llm-prism.slo.yaml', import.meta.url));
    const { code, stderr } = await failure(['slo', 'generate', '--config', config, '--out', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^llm-prism slo: ENOTDIR/);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});

describe('the embedded data directory', () => {
  test('report on a directory that does not exist: said so, and nothing created there (a mistyped path read as "no traffic" before)', async () => {
    const missing = join(dir, 'typo-dir');
    const { code, stderr } = await failure(['report', '--data-dir', missing]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^llm-prism report: no embedded data directory at .*typo-dir: nothing was stored there/m);
    expect(existsSync(missing)).toBe(false);
  });

  test('report on a database that does not exist: said so, and not created (a mistyped --database read as "no traffic")', async () => {
    const dataDir = join(dir, 'with-store');
    await run(process.execPath, [bin, 'migrate', '--data-dir', dataDir], { cwd: dir, timeout: 60_000 });
    const { code, stderr } = await failure(['report', '--data-dir', dataDir, '--database', 'otle']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^llm-prism report: no LLM Prism tables in database otle of .*with-store: nothing was stored there/m);
    expect(existsSync(join(dataDir, 'metadata', 'otel'))).toBe(true);
    expect(existsSync(join(dataDir, 'metadata', 'otle'))).toBe(false);
    // The database that is there still reads.
    const { stdout } = await run(process.execPath, [bin, 'report', '--data-dir', dataDir, '--json'], { cwd: dir, timeout: 60_000 });
    expect(JSON.parse(stdout)).toMatchObject({ anatomy: [], slos: null });
  });

  test('held by a running serve: a second serve and a report each say another process holds it', async () => {
    const dataDir = join(dir, 'held');
    const first = await startServe({ dataDir });
    try {
      for (const command of ['serve', 'report']) {
        const { code, stderr } = await failure([command, '--data-dir', dataDir, ...(command === 'serve' ? ['--port', '0'] : [])]);
        expect(code, command).toBe(1);
        expect(stderr, command).toMatch(new RegExp(`^llm-prism ${command}: cannot open the embedded data directory .*Is another process using it`, 'm'));
      }
    } finally {
      await stopServe(first);
    }
  }, 90_000);
});
