/**
 * Test support for the wire taps on their own (wire-tap.test.ts: undici through `fetch`,
 * http-tap.test.ts: node:http): a local server with the answers the taps must read, a call
 * listener that records what each attempt saw, and the checks both transports must pass.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect } from 'vitest';
import type { AttemptListener, CallListener, SseEvent } from '../src/internal-types.ts';
import { acquireWireTap } from '../src/wire-tap.ts';
import { useRawServer } from './contract.ts';
import { sleep } from './harness.ts';

/**
 * The wire tap taken and the server listening before the file's tests, both released after them.
 * Paths: `/sse` three events 100 ms apart; `/sse-gzip` two named events, gzip-compressed; `/slow`
 * 50 events 20 ms apart, as long as the client stays; `/drop` one event, then the connection
 * destroyed; anything else a gzip-compressed JSON body with a rate-limit header.
 */
export function useTapServer(): { url(path: string): string } {
  let releaseWireTap: () => void;
  beforeAll(() => {
    const hold = acquireWireTap();
    if (typeof hold !== 'function') throw new Error(`the wire tap is held by another copy: ${hold.heldBy.url}`);
    releaseWireTap = hold;
  });
  afterAll(() => releaseWireTap());
  const raw = useRawServer(async (req, res) => {
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
  return { url: (path) => `${raw.base}${path}` };
}

/** What the tap reported of one attempt. */
export interface Seen {
  status?: number;
  headers?: ReadonlyMap<string, string>;
  events: Array<{ event: SseEvent; at: number }>;
  body?: string;
  endedAt?: number;
  error?: unknown;
}

/** A call listener that records every attempt the tap reports in its scope. */
export function recording(): { seen: Seen[]; listener: CallListener } {
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

/** A call listener whose every method throws: the tap must swallow its failures. */
export const throwing: CallListener = {
  attempt(): AttemptListener {
    const fail = () => {
      throw new Error('listener failure');
    };
    return { headers: fail, sseEvent: fail, body: fail, end: fail, error: fail };
  },
};

/** Waits (bounded: 2 s) until `check` holds. */
export async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
}

/** One attempt saw `/sse`'s three events, each timestamped at its arrival (100 ms apart), all before `readAt`. */
export function expectArrivedBefore(seen: Seen[], readAt: number): void {
  expect(seen).toHaveLength(1);
  expect(seen[0]!.events.map((e) => e.event.data)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
  const [a, b, c] = seen[0]!.events.map((e) => e.at);
  expect(c!).toBeLessThan(readAt);
  for (const gap of [b! - a!, c! - b!]) expect(Math.abs(gap - 100)).toBeLessThanOrEqual(80);
}

/** Once the attempt has ended: `/sse-gzip`'s events, decompressed. */
export async function expectDecodedSse(seen: Seen[]): Promise<void> {
  await until(() => seen[0]?.endedAt !== undefined);
  expect(seen[0]!.events.map((e) => [e.event.event, e.event.data])).toEqual([
    ['a', '1'],
    ['b', '2'],
  ]);
}

/** Once the attempt has ended: the gzip JSON answer's body, decompressed, and its headers. */
export async function expectDecodedJson(seen: Seen[]): Promise<void> {
  await until(() => seen[0]?.endedAt !== undefined);
  expect(seen[0]!.body).toBe('{"ok":true}');
  expect(seen[0]!.headers!.get('x-ratelimit-limit-requests')).toBe('10');
}
