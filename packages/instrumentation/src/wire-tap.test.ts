import diagnosticsChannel from 'node:diagnostics_channel';
import { fetch as undiciFetch } from 'undici';
import { expect, it } from 'vitest';
import { TIMING, sleep } from '../test/harness.ts';
import { expectArrivedBefore, expectDecodedJson, expectDecodedSse, recording, throwing, useTapServer } from '../test/tap-server.ts';
import { callScope } from './wire-tap.ts';

const server = useTapServer();

it('timestamps SSE events on arrival, not when the body is read', TIMING, async () => {
  const { seen, listener } = recording();
  const response = await callScope.run(listener, () => fetch(server.url('/sse')));
  await sleep(500); // the whole body arrives meanwhile, unread
  const readAt = performance.now();
  await response.text();
  expectArrivedBefore(seen, readAt);
});

// openai's documented proxy setup passes undici's own fetch; undici 8 calls its request's
// `onResponseData` (no `onData` to wrap), so the arrival comes from its bodyChunkReceived channel,
// which the tap subscribes only then (public-api.test.ts: not for the SDKs' requests on Node's fetch).
it('timestamps the events of undici 8\'s own fetch on arrival, from its bodyChunkReceived channel', TIMING, async () => {
  const { seen, listener } = recording();
  const response = await callScope.run(listener, () => undiciFetch(server.url('/sse')));
  expect(diagnosticsChannel.hasSubscribers('undici:request:bodyChunkReceived')).toBe(true);
  await sleep(500);
  const readAt = performance.now();
  await response.text();
  expectArrivedBefore(seen, readAt);
});

it('decodes gzip-compressed event streams and JSON bodies', async () => {
  const sse = recording();
  await (await callScope.run(sse.listener, () => fetch(server.url('/sse-gzip')))).text();
  await expectDecodedSse(sse.seen);

  const json = recording();
  await (await callScope.run(json.listener, () => fetch(server.url('/json')))).json();
  await expectDecodedJson(json.seen);
});

it('ignores requests outside a call and swallows its own failures', async () => {
  // The same keep-alive socket serves a request inside the call's scope and one after it.
  const call = recording();
  await callScope.run(call.listener, async () => (await fetch(server.url('/json'))).json());
  await (await fetch(server.url('/json'))).json();
  expect(call.seen).toHaveLength(1);

  const text = await (await callScope.run(throwing, () => fetch(server.url('/sse')))).text();
  expect(text).toContain('"n":2');
});
