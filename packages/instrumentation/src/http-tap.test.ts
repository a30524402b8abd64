/** The node:http wire tap on its own: arrival times, decoding, failures, and nothing changed for the client. */
import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
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
    } else if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 50 && !res.destroyed; i++) {
        res.write(`data: {"n":${i}}\n\n`);
        await sleep(20);
      }
      res.end();
    } else if (req.url === '/drop') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"n":0}\n\n');
      await sleep(30);
      res.socket?.destroy();
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
  error?: unknown;
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
          error: (error) => Object.assign(s, { error }),
        };
      },
    },
  };
}

/** A plain node:http GET: resolves with the response as soon as its headers are in. */
function get(path: string, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { signal }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let out = '';
  for await (const chunk of res) out += String(chunk);
  return out;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
}

it('timestamps SSE events on arrival, not when the body is read', TIMING, async () => {
  const { seen, listener } = recording();
  const res = await callScope.run(listener, () => get('/sse'));
  await sleep(500); // the whole body arrives meanwhile, unread (paused, in the stream's buffer)
  const readAt = performance.now();
  expect(await text(res)).toContain('"n":2');
  expect(seen).toHaveLength(1);
  expect(seen[0]!.status).toBe(200);
  expect(seen[0]!.events.map((e) => e.event.data)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
  const [a, b, c] = seen[0]!.events.map((e) => e.at);
  expect(c!).toBeLessThan(readAt);
  expect(seen[0]!.endedAt!).toBeLessThan(readAt);
  for (const gap of [b! - a!, c! - b!]) expect(Math.abs(gap - 100)).toBeLessThanOrEqual(80);
});

it('decodes gzip-compressed event streams and JSON bodies', async () => {
  const sse = recording();
  await text(await callScope.run(sse.listener, () => get('/sse-gzip')));
  await until(() => sse.seen[0]?.endedAt !== undefined);
  expect(sse.seen[0]!.events.map((e) => [e.event.event, e.event.data])).toEqual([
    ['a', '1'],
    ['b', '2'],
  ]);
  const json = recording();
  const raw = await callScope.run(json.listener, () => get('/json'));
  await until(() => json.seen[0]?.endedAt !== undefined);
  expect(json.seen[0]!.body).toBe('{"ok":true}');
  expect(json.seen[0]!.headers!.get('x-ratelimit-limit-requests')).toBe('10');
  // The application still gets the raw bytes, as without the tap.
  raw.resume();
});

it('leaves the response as it was: no listeners, flowing mode untouched, own methods removed at the end', async () => {
  const { seen, listener } = recording();
  const res = await callScope.run(listener, () => get('/sse'));
  const untapped = await get('/sse'); // outside a call: the tap leaves it alone
  const events = ['data', 'end', 'error', 'close', 'aborted', 'readable'] as const;
  expect(events.map((e) => res.listenerCount(e))).toEqual(events.map((e) => untapped.listenerCount(e)));
  expect(res.readableFlowing).toBe(null);
  expect(Object.keys(res).sort()).toEqual(Object.keys(untapped).sort());
  await Promise.all([text(res), text(untapped)]);
  await until(() => seen[0]?.endedAt !== undefined);
  expect(Object.hasOwn(res, 'push')).toBe(false);
  expect(Object.hasOwn(res, '_destroy')).toBe(false);
});

it('reports a dropped connection as an error, and an abort as an AbortError', async () => {
  const dropped = recording();
  const res = await callScope.run(dropped.listener, () => get('/drop'));
  await text(res).catch(() => undefined);
  await until(() => dropped.seen[0]?.error !== undefined);
  expect((dropped.seen[0]!.error as { code?: string }).code).toBe('ECONNRESET');
  expect(dropped.seen[0]!.events).toHaveLength(1);

  // node-fetch aborts with request.abort() (the response then fails with a connection reset).
  const aborted = recording();
  const slow = await callScope.run(aborted.listener, () => get('/slow'));
  slow.on('data', () => undefined);
  slow.on('error', () => undefined);
  await sleep(50);
  (slow as IncomingMessage & { req: ClientRequest }).req.abort();
  await until(() => aborted.seen[0]?.error !== undefined);
  expect((aborted.seen[0]!.error as Error).name).toBe('AbortError');

  // An AbortSignal given to http.request destroys the request with an AbortError.
  const signalled = recording();
  const controller = new AbortController();
  const viaSignal = await callScope.run(signalled.listener, () => get('/slow', controller.signal));
  viaSignal.on('data', () => undefined);
  viaSignal.on('error', () => undefined);
  await sleep(50);
  controller.abort();
  await until(() => signalled.seen[0]?.error !== undefined);
  expect((signalled.seen[0]!.error as Error).name).toBe('AbortError');
});

it('ignores requests outside a call and swallows its own failures', async () => {
  const call = recording();
  await text(await callScope.run(call.listener, () => get('/json')));
  await text(await get('/json'));
  expect(call.seen).toHaveLength(1);

  const throwing = {
    attempt(): AttemptListener {
      const fail = () => {
        throw new Error('listener failure');
      };
      return { headers: fail, sseEvent: fail, body: fail, end: fail, error: fail };
    },
  };
  expect(await text(await callScope.run(throwing, () => get('/sse')))).toContain('"n":2');
  const res = await callScope.run(throwing, () => get('/drop'));
  await expect(text(res)).rejects.toMatchObject({ code: 'ECONNRESET' });
});
