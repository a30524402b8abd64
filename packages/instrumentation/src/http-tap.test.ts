/** The node:http wire tap on its own: arrival times, decoding, failures, and nothing changed for the client. */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { expect, it } from 'vitest';
import { TIMING, sleep } from '../test/harness.ts';
import { expectArrivedBefore, expectDecodedJson, expectDecodedSse, recording, throwing, until, useTapServer } from '../test/tap-server.ts';
import { callScope } from './wire-tap.ts';

const server = useTapServer();

/** A plain node:http GET: resolves with the response as soon as its headers are in. */
function get(path: string, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(server.url(path), { signal }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let out = '';
  for await (const chunk of res) out += String(chunk);
  return out;
}

it('timestamps SSE events on arrival, not when the body is read', TIMING, async () => {
  const { seen, listener } = recording();
  const res = await callScope.run(listener, () => get('/sse'));
  await sleep(500); // the whole body arrives meanwhile, unread (paused, in the stream's buffer)
  const readAt = performance.now();
  expect(await text(res)).toContain('"n":2');
  expectArrivedBefore(seen, readAt);
  expect(seen[0]!.status).toBe(200);
  expect(seen[0]!.endedAt!).toBeLessThan(readAt);
});

it('decodes gzip-compressed event streams and JSON bodies', async () => {
  const sse = recording();
  await text(await callScope.run(sse.listener, () => get('/sse-gzip')));
  await expectDecodedSse(sse.seen);
  const json = recording();
  const raw = await callScope.run(json.listener, () => get('/json'));
  await expectDecodedJson(json.seen);
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

  expect(await text(await callScope.run(throwing, () => get('/sse')))).toContain('"n":2');
  const res = await callScope.run(throwing, () => get('/drop'));
  await expect(text(res)).rejects.toMatchObject({ code: 'ECONNRESET' });
});
