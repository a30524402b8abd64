import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TIMING } from '../test/harness.ts';
import type { AttemptListener, SseEvent } from './internal-types.ts';
import { acquireWireTap, callScope } from './wire-tap.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let server: Server;
let releaseWireTap: () => void;
let base: string;

beforeAll(async () => {
  releaseWireTap = acquireWireTap();
  server = createServer({ noDelay: true }, async (req, res) => {
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 3; i++) {
        res.write(`data: {"n":${i}}\n\n`);
        await sleep(100);
      }
      res.end();
    } else if (req.url === '/sse-gzip') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(gzipSync('event: a\ndata: 1\n\nevent: b\ndata: 2\n\n'));
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-ratelimit-limit-requests': '10' });
      res.end(gzipSync(JSON.stringify({ ok: true })));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  releaseWireTap();
  await new Promise((resolve) => server.close(resolve));
});

interface Seen {
  status?: number;
  headers?: ReadonlyMap<string, string>;
  events: Array<{ event: SseEvent; at: number }>;
  body?: string;
  endedAt?: number;
}

function recording(): { seen: Seen[]; listener: { attempt(at: number): AttemptListener } } {
  const seen: Seen[] = [];
  return {
    seen,
    listener: {
      attempt() {
        const s: Seen = { events: [] };
        seen.push(s);
        return {
          headers: (status, headers) => Object.assign(s, { status, headers }),
          sseEvent: (event, at) => s.events.push({ event, at }),
          body: (text) => Object.assign(s, { body: text }),
          end: (at) => Object.assign(s, { endedAt: at }),
          error: () => undefined,
        };
      },
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
}

it('timestamps SSE events on arrival, not when the body is read', TIMING, async () => {
  const { seen, listener } = recording();
  const response = await callScope.run(listener, () => fetch(`${base}/sse`));
  await sleep(500); // the whole body arrives meanwhile, unread
  const readAt = performance.now();
  await response.text();
  expect(seen).toHaveLength(1);
  expect(seen[0]!.events.map((e) => e.event.data)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
  const [a, b, c] = seen[0]!.events.map((e) => e.at);
  expect(c!).toBeLessThan(readAt);
  for (const gap of [b! - a!, c! - b!]) expect(Math.abs(gap - 100)).toBeLessThanOrEqual(80);
});

it('decodes gzip-compressed event streams and JSON bodies', async () => {
  const sse = recording();
  await (await callScope.run(sse.listener, () => fetch(`${base}/sse-gzip`))).text();
  await until(() => sse.seen[0]?.endedAt !== undefined);
  expect(sse.seen[0]!.events.map((e) => [e.event.event, e.event.data])).toEqual([
    ['a', '1'],
    ['b', '2'],
  ]);

  const json = recording();
  await (await callScope.run(json.listener, () => fetch(`${base}/json`))).json();
  await until(() => json.seen[0]?.endedAt !== undefined);
  expect(json.seen[0]!.body).toBe('{"ok":true}');
  expect(json.seen[0]!.headers!.get('x-ratelimit-limit-requests')).toBe('10');
});

it('ignores requests outside a call and swallows its own failures', async () => {
  // The same keep-alive socket serves a request inside the call's scope and one after it.
  const call = recording();
  await callScope.run(call.listener, async () => (await fetch(`${base}/json`)).json());
  await (await fetch(`${base}/json`)).json();
  expect(call.seen).toHaveLength(1);

  const throwing = {
    attempt(): AttemptListener {
      const fail = () => {
        throw new Error('listener failure');
      };
      return { headers: fail, sseEvent: fail, body: fail, end: fail, error: fail };
    },
  };
  const text = await (await callScope.run(throwing, () => fetch(`${base}/sse`))).text();
  expect(text).toContain('"n":2');
});
