// `llm-prism serve` as a user runs it: a child process on embedded chDB that stores what an
// exporter sends, answers health checks, and on SIGTERM drains and exits cleanly.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSERTED_TABLES, openStorage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, expect, test } from 'vitest';
import { startServe, stopServe, type ServeProcess } from '../packages/cli/test/serve-process.ts';
import { jsonRequest, jsonSpan } from '../packages/ingest/test/requests.ts';

const bin = fileURLToPath(new URL('../packages/cli/src/bin.ts', import.meta.url));
let serve: ServeProcess | undefined;

afterAll(async () => {
  if (serve) await stopServe(serve);
});

test('serve stores spans, reports health, and shuts down gracefully on SIGTERM', async () => {
  const dataDir = await tempDataDir();
  serve = await startServe({ dataDir, args: ['--token', 'cli-token'] });
  const { url } = serve;
  expect(serve.stderr()).toContain(`storing spans in embedded chDB in ${dataDir}, database otel`);
  expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
  const local = url.replace('0.0.0.0', '127.0.0.1');

  expect((await fetch(`${local}/healthz`)).status).toBe(200);
  expect((await fetch(`${local}/readyz`)).status).toBe(200);
  const span = jsonSpan({ name: 'from-cli-test' });
  const res = await fetch(`${local}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer cli-token' },
    body: JSON.stringify(jsonRequest([span], 'cli-serve')),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({});

  expect(await stopServe(serve)).toBe(0);
  expect(serve.stderr()).toContain('SIGTERM: finishing queued inserts, then closing storage');
  expect(serve.stderr()).toContain('llm-prism serve: stopped');

  // The child has released the data directory: its rows are on disk.
  const storage = await openStorage({ dataDir });
  try {
    const result = await storage.client.query({
      query: `SELECT SpanName, ServiceName FROM ${storage.database}.otel_traces WHERE TraceId = {t:String}`,
      query_params: { t: span.traceId },
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ SpanName: 'from-cli-test', ServiceName: 'cli-serve' }]);
  } finally {
    await storage.close();
  }
});

test('serve refuses a non-loopback host without a token, before it creates or opens the data directory', async () => {
  const dataDir = join(await tempDataDir(), 'not-yet');
  const refused = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '0.0.0.0', '--data-dir', dataDir], {
    env: { ...process.env, LLM_PRISM_TOKENS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  refused.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = await once(refused, 'exit');
  expect(code).not.toBe(0);
  expect(stderr).toContain('refusing to listen on 0.0.0.0 without authentication');
  expect(stderr).not.toContain('storing spans');
  expect(existsSync(dataDir)).toBe(false);
});

test('serve --fsync turns fsync on for every inserted table, a later serve keeps it, --no-fsync turns it off', async () => {
  const dataDir = await tempDataDir();
  const settings = async () => {
    const storage = await openStorage({ dataDir });
    try {
      const result = await storage.client.query({
        query: `SELECT groupUniqArray(extract(engine_full, 'fsync_after_insert = (\\\\d)') || extract(engine_full, 'fsync_part_directory = (\\\\d)')) AS v
                FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}`,
        query_params: { db: storage.database, names: INSERTED_TABLES },
        format: 'JSONEachRow',
      });
      return (await result.json<{ v: string[] }>())[0]!.v;
    } finally {
      await storage.close();
    }
  };
  for (const [args, expected] of [[['--fsync'], ['11']], [[], ['11']], [['--no-fsync'], ['00']]] as const) {
    serve = await startServe({ dataDir, args: [...args] });
    // Up and serving (a SIGTERM in the instant after "listening" is printed, before serve has set
    // its signal handlers, would end it without the graceful exit).
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    expect(await stopServe(serve)).toBe(0);
    expect(await settings()).toEqual(expected);
  }
});

test('serve refuses an insert quorum that is not a number of replicas or auto', async () => {
  const refused = spawn(process.execPath, [bin, 'serve', '--port', '0', '--insert-quorum', 'two', '--data-dir', await tempDataDir()], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  refused.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = await once(refused, 'exit');
  expect(code).not.toBe(0);
  expect(stderr).toContain("option '--insert-quorum <replicas>' argument 'two' is invalid. expected a positive number of replicas or 'auto'");
});
