// A ClickHouse server's request timeout binds queries, not migrations: a backfill or `OPTIMIZE …
// FINAL` on a large table outlasts it, and a client that gave up would fail the migration while the
// server carried on. No server runs here, so a loopback HTTP endpoint answers as one does for these
// statements (an empty 200, the ledger's rows), slowly where the test says.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrations } from './migrations.ts';
import { openStorage } from './storage.ts';

const SLOW_MS = 1_500;
const latest = migrations.at(-1)!.version;
let server: Server;
let url: string;
const slowStatements: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const query = `${new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? ''}\n${body}`;
      const answer = (text = '') => res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
      // Every migration but the latest is applied: migrate() runs that one's statements.
      if (query.includes('SELECT DISTINCT Version')) return answer(migrations.filter((m) => m.version !== latest).map((m) => `{"Version":${m.version}}\n`).join(''));
      if (query.includes('MODIFY QUERY') || query.includes('SELECT sleepy')) {
        slowStatements.push(req.url ?? '');
        return setTimeout(() => answer(query.includes('SELECT sleepy') ? '{"x":1}\n' : ''), SLOW_MS);
      }
      answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('a migration statement slower than the request timeout completes; a query that slow times out', async () => {
  await expect(openStorage({ url, requestTimeoutMs: 0 })).rejects.toThrow(/requestTimeoutMs must be a whole number/);
  const storage = await openStorage({ url, requestTimeoutMs: SLOW_MS / 3 });
  try {
    expect(slowStatements.length).toBeGreaterThan(0); // the latest migration's statement ran, slowly, and migrate() waited
    // …waiting for every host of a cluster as long (ClickHouse's default: 180 s), and without
    // progress headers, after which an error would reach only the body that `command()` ignores.
    for (const request of slowStatements) {
      const settings = new URL(request, url).searchParams;
      expect(settings.get('distributed_ddl_task_timeout')).toBe(String(6 * 3600));
      expect(settings.get('send_progress_in_http_headers')).toBeNull();
    }
    await expect(storage.client.query({ query: 'SELECT sleepy AS x', format: 'JSONEachRow' })).rejects.toThrow(/timeout/i);
  } finally {
    await storage.close();
  }
});
