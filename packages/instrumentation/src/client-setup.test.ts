/**
 * Client start-up as its own phase (issue 12, item 5): from the call to its first request on the
 * wire is `llm.client_setup`, and `llm.queue` starts there. The test injects both delays: a DNS
 * lookup that answers `SETUP_MS` late (the undici Agent's `connect.lookup` for the fetch-based
 * `openai`, the http.Agent's `lookup` for node-fetch in `openai` 4), paid by every new connection,
 * or over TLS a handshake held back as long (test/tls.ts), and the simulator's queue delay.
 * A cold call pays the lookup or the handshake in `llm.client_setup`, a warm call on the
 * kept-alive connection next to nothing, and a first attempt that never reached the wire ends the
 * set-up with its failure. SDK calls, and calls recognised on the wire (`fetch`, `http.request`).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { SpanStatusCode } from '@opentelemetry/api';
import { scenarioHeaders } from '@llm-prism/simulator';
import type OpenAIType from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatMessages, drain, now, useWireHarness } from '../test/contract.ts';
import { expectFaithful, loadSdk, uniquePrompt, type SdkMajor } from '../test/sdk-majors-harness.ts';
import { TIMING, durationMs, endMs, expectAdjoiningPhases, finishedCalls, scenario, sleep, startMs, treeOf, type CallTree } from '../test/harness.ts';
import { startTlsFront, TEST_CA, type TlsFront } from '../test/tls.ts';

const SETUP_MS = 150;
const S = { queueMs: 200, prefillMs: 100, chunks: 5, chunkIntervalMs: 20 };

/** A DNS lookup of `localhost` that answers `delayMs` late, and fails (EAI_AGAIN) while `failures` lasts. */
function slowLookup(delayMs: number): { lookup: LookupFunction; calls: number[]; failures: number } {
  const state = {
    calls: [] as number[],
    failures: 0,
    lookup: ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      setTimeout(() => {
        state.calls.push(now());
        if (state.failures > 0) {
          state.failures--;
          callback(Object.assign(new Error('getaddrinfo EAI_AGAIN localhost'), { code: 'EAI_AGAIN' }));
        } else if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      }, delayMs);
    }) as unknown as LookupFunction,
  };
  return state;
}

/** How a client connects: `localhost` resolved through `lookup`; over TLS, trusting `ca`. */
interface Connecting {
  lookup: LookupFunction;
  maxRetries: number;
  ca?: string;
}

interface Transport {
  major: SdkMajor;
  client(OpenAI: typeof OpenAIType, baseURL: string, how: Connecting): OpenAIType;
  /** The SDK's own fetch, each request on a new connection to `localhost` resolved through `lookup`. */
  newConnectionFetch(OpenAI: typeof OpenAIType, lookup: LookupFunction): typeof fetch;
}

/** Node's bundled undici Agent (the class of fetch's global dispatcher): fetch takes it as `dispatcher`. */
const UndiciAgent = (globalThis as Record<symbol, { constructor: new (options: object) => object } | undefined>)[Symbol.for('undici.globalDispatcher.1')]!.constructor;

const TRANSPORTS: Transport[] = [
  {
    major: { label: 'openai 7 (undici)', module: 'openai', version: /^7\./, transport: 'undici' },
    client: (OpenAI, baseURL, { lookup, maxRetries, ca }) =>
      new OpenAI({ baseURL, apiKey: 'test-key', maxRetries, fetchOptions: { dispatcher: new UndiciAgent({ connect: { lookup, ca } }) } as never }),
    newConnectionFetch: (_OpenAI, lookup) => (url, init) => fetch(url, { ...init, dispatcher: new UndiciAgent({ connect: { lookup } }) } as RequestInit),
  },
  {
    major: { label: 'openai 4 (node:http)', module: 'openai', fixture: 'openai-4', version: /^4\.1\d\d\./, transport: 'node:http' },
    client: (OpenAI, baseURL, { lookup, maxRetries, ca }) =>
      new OpenAI({ baseURL, apiKey: 'test-key', maxRetries, httpAgent: ca ? new HttpsAgent({ keepAlive: true, lookup, ca }) : new HttpAgent({ keepAlive: true, lookup }) } as never),
    // openai 4 sends with node-fetch, which takes the agent in the request's options.
    newConnectionFetch: (OpenAI, lookup) => {
      const send = (new OpenAI({ apiKey: 'test-key' }) as unknown as { fetch: typeof fetch }).fetch;
      return (url, init) => send(url, { ...init, agent: new HttpAgent({ lookup }) } as RequestInit);
    },
  },
];

const h = useWireHarness();
let front: TlsFront;
beforeAll(async () => {
  front = await startTlsFront(new URL(h.sim.openaiBaseURL).origin, { handshakeDelayMs: SETUP_MS });
});
afterAll(async () => {
  await front.close();
});

/** One streamed call: its tree, the phases adjoining, queue and prefill as injected, prefill derived exactly. */
async function streamedCall(openai: OpenAIType, label: string): Promise<CallTree> {
  h.exporter.reset();
  await drain(await openai.chat.completions.create({ model: 'gpt-4o', messages: chatMessages(uniquePrompt('Hi')), stream: true }, scenario(S)));
  const [span] = await finishedCalls(h.exporter);
  const t = treeOf(h.exporter, span!);
  expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft']);
  expectAdjoiningPhases(t);
  expect(t.setup!.parentSpanContext?.spanId).toBe(t.ttft!.spanContext().spanId);
  expect(startMs(t.ttft!)).toBe(startMs(t.call));
  const a = t.call.attributes;
  // Derived from the rounded figures, exactly (docs/conventions.md).
  const micro = (k: string) => Math.round((a[k] as number) * 1000);
  expect(micro('llm.prefill_ms')).toBe(micro('llm.ttft_ms') - micro('llm.client_setup_ms') - micro('llm.queue_ms'));
  expectFaithful(durationMs(t.queue!), S.queueMs, `${label} queue`);
  expectFaithful(a['llm.prefill_ms'] as number, S.prefillMs, `${label} prefill`);
  expect(a['llm.attempts']).toBe(1);
  return t;
}

/** A cold call pays `SETUP_MS` in llm.client_setup (not before `paidAt`), a warm one after it next to nothing. */
async function coldThenWarm(openai: OpenAIType, label: string, paid: () => number[]): Promise<void> {
  const cold = await streamedCall(openai, `${label} cold`);
  expect(paid()).toHaveLength(1);
  expectFaithful(durationMs(cold.setup!), SETUP_MS, `${label} cold set-up`);
  // The request went out once the connection was made, not before.
  expect(endMs(cold.setup!)).toBeGreaterThanOrEqual(paid()[0]! - 1);
  expectFaithful(durationMs(cold.ttft!), SETUP_MS + S.queueMs + S.prefillMs, `${label} cold ttft`);

  await sleep(50); // the connection is back in the pool
  const warm = await streamedCall(openai, `${label} warm`);
  expect(paid()).toHaveLength(1); // the kept-alive connection: no new lookup or handshake
  expectFaithful(durationMs(warm.setup!), 0, `${label} warm set-up`);
  expectFaithful(durationMs(warm.ttft!), S.queueMs + S.prefillMs, `${label} warm ttft`);
}

describe.each(TRANSPORTS)('$major.label', ({ major, client, newConnectionFetch }) => {
  let OpenAI: typeof OpenAIType;
  /** The simulator's OpenAI base URL by the name the slow lookup resolves. */
  let baseURL: string;
  beforeAll(async () => {
    OpenAI = (await loadSdk<typeof import('openai')>(major)).patched.OpenAI;
    baseURL = h.sim.openaiBaseURL.replace('127.0.0.1', 'localhost');
    // The SDK's own lazy loading is paid once here, on another connection: the truth below is the lookup.
    await new OpenAI({ baseURL: h.sim.openaiBaseURL, apiKey: 'test-key' }).chat.completions.create({ model: 'gpt-4o', messages: chatMessages(uniquePrompt('warm')) }, scenario({ chunks: 1 }));
    h.exporter.reset();
  });

  it('a cold call: the DNS lookup is llm.client_setup, llm.queue the provider’s; a warm call has next to no set-up', TIMING, async () => {
    const dns = slowLookup(SETUP_MS);
    await coldThenWarm(client(OpenAI, baseURL, { lookup: dns.lookup, maxRetries: 0 }), major.label, () => dns.calls);
  });

  it('over TLS: the handshake is llm.client_setup (the request waits for it on a connected socket)', TIMING, async () => {
    const seen = front.handshakes.length;
    const openai = client(OpenAI, `${front.origin}/v1`, { lookup: slowLookup(0).lookup, maxRetries: 0, ca: TEST_CA });
    await coldThenWarm(openai, `${major.label} TLS`, () => front.handshakes.slice(seen));
  });

  it('queued requests (a limiter of one, three concurrent calls, each request on a new connection): the wait in the queue and the lookup are llm.client_setup', TIMING, async () => {
    const dns = slowLookup(SETUP_MS);
    const send = newConnectionFetch(OpenAI, dns.lookup);
    // First in, first out, one at a time: while the first call streams, the second and third wait,
    // so the second's request is matched by its body (wire-calls.ts `queued`) after it went on the wire.
    let busy = false;
    const waiting: (() => void)[] = [];
    const waited = new Map<string, number>();
    const limited = (url: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
      new Promise((resolve, reject) => {
        const queuedAt = performance.now();
        const run = () => {
          busy = true;
          waited.set(String(init?.body), performance.now() - queuedAt);
          const release = () => {
            busy = false;
            waiting.shift()?.();
          };
          send(url, init).then((response) => {
            resolve(response);
            response.clone().arrayBuffer().then(release, release);
          }, (err: unknown) => {
            release();
            reject(err);
          });
        };
        if (busy) waiting.push(run);
        else run();
      });
    const openai = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0, fetch: limited as never });
    h.exporter.reset();
    const prompts = [0, 1, 2].map((i) => uniquePrompt(`Queued ${i}`));
    await Promise.all(prompts.map(async (prompt) => drain(await openai.chat.completions.create({ model: 'gpt-4o', messages: chatMessages(prompt), stream: true }, scenario(S)))));
    expect(dns.calls).toHaveLength(3);
    const calls = (await finishedCalls(h.exporter, 3)).sort((a, b) => startMs(a) - startMs(b));
    expect(calls).toHaveLength(3);
    calls.forEach((span, i) => {
      const t = treeOf(h.exporter, span);
      expectAdjoiningPhases(t);
      const [body] = [...waited.keys()].filter((b) => b.includes(prompts[i]!));
      expectFaithful(durationMs(t.setup!), waited.get(body!)! + SETUP_MS, `${major.label} queued call ${i} set-up`);
      expect(endMs(t.setup!)).toBeGreaterThanOrEqual(dns.calls[i]! - 1);
      expectFaithful(durationMs(t.queue!), S.queueMs, `${major.label} queued call ${i} queue`);
      expect(t.call.attributes['llm.attempts']).toBe(1);
    });
  });

  it('a first attempt that never reached the wire ends llm.client_setup with its failure; the retry’s connecting is queue time', TIMING, async () => {
    const dns = slowLookup(SETUP_MS);
    dns.failures = 1;
    const openai = client(OpenAI, baseURL, { lookup: dns.lookup, maxRetries: 1 });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: chatMessages(uniquePrompt('Hi')), stream: true }, scenario(S));
    await drain(stream);
    const [span] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, span!);
    expectAdjoiningPhases(t);
    expect(dns.calls).toHaveLength(2);
    const [failedAt, retryResolvedAt] = dns.calls as [number, number];
    expectFaithful(durationMs(t.setup!), SETUP_MS, `${major.label} set-up to the failure`);
    expectFaithful(endMs(t.setup!) - failedAt, 0, `${major.label} set-up ends at the failure`);
    const [first, second] = t.queue!.events;
    expect(first!.attributes?.['llm.attempt']).toBe(1);
    expect(first!.attributes?.['error.type']).toBeTypeOf('string');
    expect(first!.attributes?.['http.response.status_code']).toBeUndefined();
    expect(first!.time).toEqual(t.queue!.startTime); // timestamped at its failure, where llm.queue starts
    expect(second!.attributes).toEqual({ 'llm.attempt': 2, 'http.response.status_code': 200 });
    // The SDK's backoff, the retry's own lookup and the provider's queue are llm.queue.
    expect(endMs(t.queue!)).toBeGreaterThan(retryResolvedAt);
    expectFaithful(endMs(t.queue!) - retryResolvedAt, S.queueMs, `${major.label} queue after the retry connected`);
    expect(t.call.attributes).toMatchObject({ 'llm.attempts': 2, 'llm.outcome': 'success' });
  });

  it('a call whose only attempt never reached the wire: all of it is llm.client_setup, llm.queue is empty', async () => {
    const dns = slowLookup(SETUP_MS);
    dns.failures = 1;
    const openai = client(OpenAI, baseURL, { lookup: dns.lookup, maxRetries: 0 });
    const error = await openai.chat.completions.create({ model: 'gpt-4o', messages: chatMessages(uniquePrompt('Hi')), stream: true }, scenario(S)).catch((e: unknown) => e);
    expect((error as Error).constructor.name).toBe('APIConnectionError');
    const [span] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, span!);
    expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'llm.client_setup', 'llm.queue']);
    expectAdjoiningPhases(t);
    expectFaithful(endMs(t.setup!) - dns.calls[0]!, 0, `${major.label} set-up ends at the failure`);
    expect(t.call.attributes['llm.queue_ms']).toBe(0);
    expect(t.call.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('calls recognised on the wire', () => {
  const body = () => JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: uniquePrompt('Hi') }] });
  const headers = () => ({ 'content-type': 'application/json', ...scenarioHeaders(S) });
  const url = () => `${h.sim.openaiBaseURL.replace('127.0.0.1', 'localhost')}/chat/completions`;

  /** The one call span's phases: the lookup is its set-up (its request's creation to the wire), the rest as injected. */
  async function expectWireCall(paidAt: number): Promise<void> {
    const [span] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, span!);
    expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft']);
    expectAdjoiningPhases(t);
    expectFaithful(durationMs(t.setup!), SETUP_MS, 'wire call set-up');
    expect(endMs(t.setup!)).toBeGreaterThanOrEqual(paidAt - 1);
    expectFaithful(durationMs(t.queue!), S.queueMs, 'wire call queue');
    expectFaithful(t.call.attributes['llm.prefill_ms'] as number, S.prefillMs, 'wire call prefill');
  }

  it('fetch (undici): the request is on the wire at sendHeaders, before its body decides it is a call', TIMING, async () => {
    const dns = slowLookup(SETUP_MS);
    const dispatcher = new UndiciAgent({ connect: { lookup: dns.lookup } });
    const res = await fetch(url(), { method: 'POST', headers: headers(), body: body(), dispatcher } as RequestInit);
    await res.text();
    await expectWireCall(dns.calls[0]!);
  });

  it('http.request (node:http): the request is on the wire at its socket’s connect', TIMING, async () => {
    const dns = slowLookup(SETUP_MS);
    const agent = new HttpAgent({ keepAlive: true, lookup: dns.lookup });
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(url(), { method: 'POST', headers: headers(), agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body());
    });
    agent.destroy();
    await expectWireCall(dns.calls[0]!);
  });
});
