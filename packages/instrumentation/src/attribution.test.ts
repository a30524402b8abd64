/**
 * Attribution: an attempt is the HTTP exchange with the provider's endpoint that carries the
 * call's request — not any request created in the call's async context. Through a CONNECT proxy
 * (undici `ProxyAgent`, Node's own env proxy) and through a fetch wrapper that queues requests and
 * sends them later from another call's context, every call has one attempt, its own response id,
 * success and its phases.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatMessages, STREAM_TIMINGS, useHarness } from '../test/contract.ts';
import { durationMs, endMs, expectAdjoiningPhases, finishedCalls, scenario, startMs, TIMING, treeOf } from '../test/harness.ts';
import { expectFaithful } from '../test/sdk-majors-harness.ts';

const h = useHarness({ wireCalls: true });
const messages = chatMessages();
const T = STREAM_TIMINGS; // 200 ms queue, 300 ms prefill, 20 chunks 20 ms apart

/** A proxy: CONNECT tunnels (what undici's `ProxyAgent` and Node's env proxy use) and absolute-form forwarding. */
async function startProxy(): Promise<{ url: string; connects: number; forwards: number; close(): Promise<void> }> {
  const state = { connects: 0, forwards: 0 };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    state.forwards++;
    const target = new URL(req.url ?? '/');
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    state.connects++;
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get connects() {
      return state.connects;
    },
    get forwards() {
      return state.forwards;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Streams one call to the end; returns when it started and the response ids the application saw. */
async function streamedCall(client: typeof h.client): Promise<{ started: number; ids: Set<string> }> {
  const started = performance.timeOrigin + performance.now();
  const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }, scenario({ ...T }));
  const ids = new Set<string>();
  for await (const chunk of stream) ids.add(chunk.id);
  return { started, ids };
}

/** One attempt, the application's response id, success, and the injected phases (`waitedMs` on the client: its set-up). */
function expectCall(span: ReadableSpan, id: string, waitedMs = 0): void {
  const a = span.attributes;
  expect(a).toMatchObject({ 'llm.attempts': 1, 'llm.retries': 0, 'llm.outcome': 'success', 'gen_ai.response.id': id });
  const t = treeOf(h.exporter, span);
  expect(t.all.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'llm.client_setup', 'llm.decode', 'llm.queue', 'llm.ttft']);
  expectAdjoiningPhases(t);
  // The request waited in the wrapper's queue before it went out: client time, not the provider's.
  expectFaithful(durationMs(t.setup!), waitedMs, 'client set-up');
  expectFaithful(durationMs(t.queue!), T.queueMs, 'queue');
  expectFaithful(startMs(t.decode!) - endMs(t.queue!), T.prefillMs, 'prefill');
  expectFaithful(durationMs(t.decode!), (T.chunks - 1) * T.chunkIntervalMs, 'decode');
}

describe('through a CONNECT proxy', () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  beforeAll(async () => {
    proxy = await startProxy();
  });
  afterAll(() => proxy.close());

  for (const [agent, tunnel] of [['ProxyAgent', true], ['EnvHttpProxyAgent', true], ['EnvHttpProxyAgent', false]] as const) {
    it(`undici's ${agent} as the SDK's dispatcher (${tunnel ? 'CONNECT tunnel' : 'forwarding'}): one attempt per call`, TIMING, async () => {
      const undici = await import('undici');
      const dispatcher =
        agent === 'ProxyAgent'
          ? new undici.ProxyAgent({ uri: proxy.url, proxyTunnel: tunnel })
          : new undici.EnvHttpProxyAgent({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: '', proxyTunnel: tunnel } as never);
      const before = tunnel ? proxy.connects : proxy.forwards;
      try {
        // The patched copy of the SDK, with undici's fetch and the dispatcher: a new tunnel for the first call.
        const OpenAI = h.client.constructor as typeof import('openai').OpenAI;
        const client = new OpenAI({ baseURL: h.sim.openaiBaseURL, apiKey: 'test-key', maxRetries: 0, fetch: undici.fetch as never, fetchOptions: { dispatcher } as never });
        for (let i = 0; i < 2; i++) {
          h.exporter.reset();
          const { ids } = await streamedCall(client as unknown as typeof h.client);
          const [call] = await finishedCalls(h.exporter);
          expect(ids.size).toBe(1);
          expectCall(call!, [...ids][0]!);
        }
        expect(tunnel ? proxy.connects : proxy.forwards).toBeGreaterThan(before); // the requests did go through the proxy
      } finally {
        await dispatcher.close();
      }
    });
  }

  it.skipIf(Number(process.versions.node.split('.')[0]) < 24)("Node's env proxy (NODE_USE_ENV_PROXY): no phantom retry", TIMING, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-prism-env-proxy-'));
    try {
      const src = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
      const script = join(dir, 'child.mjs');
      writeFileSync(
        script,
        `
import { createRequire } from 'node:module';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from ${JSON.stringify(import.meta.resolve('@opentelemetry/sdk-trace'))};
const { LlmPrismInstrumentation } = await import(${src('./instrumentation.ts')});
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const instrumentation = new LlmPrismInstrumentation({ wireCalls: true });
instrumentation.setTracerProvider(provider);
const require = createRequire(${JSON.stringify(fileURLToPath(import.meta.url))});
const { OpenAI } = require('openai');
const client = new OpenAI({ baseURL: process.env.SIM_URL, apiKey: 'test-key', maxRetries: 0 });
// Two calls: the first carries the process's cold start (a separate matter); the second is measured.
let ids;
for (let i = 0; i < 2; i++) {
  exporter.reset();
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true },
    { headers: { 'x-llm-sim-scenario': process.env.SCENARIO } },
  );
  ids = new Set();
  for await (const chunk of stream) ids.add(chunk.id);
  await new Promise((r) => setTimeout(r, 50));
}
const spans = exporter.getFinishedSpans().map((s) => ({ name: s.name, kind: s.kind, start: s.startTime, end: s.endTime, duration: s.duration, attributes: s.attributes, parent: s.parentSpanContext?.spanId, id: s.spanContext().spanId }));
process.stdout.write(JSON.stringify({ ids: [...ids], spans }));
`,
      );
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_USE_ENV_PROXY: '1', HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, SIM_URL: h.sim.openaiBaseURL, SCENARIO: JSON.stringify(T) };
      delete env.NO_PROXY;
      delete env.no_proxy;
      delete env.NODE_OPTIONS;
      const before = proxy.connects;
      const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      const [code] = await once(child, 'close');
      expect(code, err).toBe(0);
      const { ids, spans } = JSON.parse(out) as { ids: string[]; spans: { name: string; kind: number; duration: [number, number]; start: [number, number]; end: [number, number]; attributes: Record<string, unknown>; parent?: string; id: string }[] };
      expect(proxy.connects).toBeGreaterThan(before); // the env proxy tunnelled the request
      const calls = spans.filter((s) => s.kind === 2);
      expect(calls).toHaveLength(1);
      const call = calls[0]!;
      expect(call.attributes).toMatchObject({ 'llm.attempts': 1, 'llm.retries': 0, 'llm.outcome': 'success', 'gen_ai.response.id': ids[0] });
      const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
      const phase = (name: string) => spans.find((s) => s.name === name)!;
      expectFaithful(ms(phase('llm.queue').duration), T.queueMs, 'queue');
      expectFaithful(ms(phase('llm.decode').start) - ms(phase('llm.queue').end), T.prefillMs, 'prefill');
      expectFaithful(ms(phase('llm.decode').duration), (T.chunks - 1) * T.chunkIntervalMs, 'decode');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a fetch wrapper that queues requests', () => {
  it('limit 1, three concurrent streamed calls: each queued request is its own call’s attempt', TIMING, async () => {
    // A rate limiter in a custom fetch: a queued request is sent by the one that releases it,
    // in that request's async context (the previous call's).
    let active = 0;
    const queue: (() => void)[] = [];
    const waited: number[] = [];
    const limitedFetch = (url: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
      new Promise((resolve, reject) => {
        const queued = performance.now();
        const run = () => {
          active++;
          waited.push(performance.now() - queued);
          fetch(url, init).then(
            (response) => {
              resolve(response);
              // Released once the body ended: the next request goes out from this call's context.
              const release = () => {
                active--;
                queue.shift()?.();
              };
              response
                .clone()
                .arrayBuffer()
                .then(release, release);
            },
            (err: unknown) => {
              active--;
              queue.shift()?.();
              reject(err);
            },
          );
        };
        if (active < 1) run();
        else queue.push(run);
      });
    const client = new (h.client.constructor as typeof import('openai').OpenAI)({ baseURL: h.sim.openaiBaseURL, apiKey: 'test-key', maxRetries: 0, fetch: limitedFetch });
    const results = await Promise.all([0, 1, 2].map(() => streamedCall(client as unknown as typeof h.client)));
    const calls = await finishedCalls(h.exporter, 3);
    expect(calls).toHaveLength(3);
    expect(waited).toHaveLength(3);
    const byStart = [...calls].sort((a, b) => startMs(a) - startMs(b));
    const ids = results.map((r) => [...r.ids]);
    for (const id of ids) expect(id).toHaveLength(1);
    expect(new Set(ids.map((i) => i[0])).size).toBe(3);
    // The calls started in order and were sent in order (FIFO): call i waited waited[i] in the queue.
    byStart.forEach((span, i) => expectCall(span, ids[i]![0]!, waited[i]!));
  });
});

describe('queued requests sent outside every call', () => {
  it('a limiter draining its queue on a timer: each request is its own call’s, a plain fetch meanwhile is a wire call of its own', TIMING, async () => {
    const queue: (() => void)[] = [];
    let busy = false;
    // Created here, outside any call: the timer's callbacks run in no call's scope.
    const timer = setInterval(() => {
      if (!busy) queue.shift()?.();
    }, 5);
    const waited: number[] = [];
    const tickFetch = (url: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
      new Promise((resolve, reject) => {
        const queued = performance.now();
        queue.push(() => {
          busy = true;
          waited.push(performance.now() - queued);
          fetch(url, init).then((response) => {
            resolve(response);
            const release = () => void (busy = false);
            response.clone().arrayBuffer().then(release, release);
          }, (err: unknown) => {
            busy = false;
            reject(err);
          });
        });
      });
    try {
      const OpenAI = h.client.constructor as typeof import('openai').OpenAI;
      const client = new OpenAI({ baseURL: h.sim.openaiBaseURL, apiKey: 'test-key', maxRetries: 0, fetch: tickFetch });
      // A plain fetch (no SDK) while the SDK calls wait in the queue: recognised on the wire, not taken by them.
      const plain = (async () => {
        const response = await fetch(`${h.sim.openaiBaseURL}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer test-key', ...scenario({ queueMs: 50, prefillMs: 50, chunks: 5, chunkIntervalMs: 10 }).headers },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages, stream: true }),
        });
        await response.text();
      })();
      const results = await Promise.all([0, 1].map(() => streamedCall(client as unknown as typeof h.client)));
      await plain;
      const calls = await finishedCalls(h.exporter, 3);
      expect(calls).toHaveLength(3);
      const wire = calls.filter((c) => c.name === 'chat gpt-4o-mini');
      expect(wire).toHaveLength(1);
      expect(wire[0]!.attributes).toMatchObject({ 'llm.attempts': 1, 'llm.outcome': 'success' });
      const sdk = calls.filter((c) => c.name === 'chat gpt-4o').sort((a, b) => startMs(a) - startMs(b));
      expect(sdk).toHaveLength(2);
      sdk.forEach((span, i) => expectCall(span, [...results[i]!.ids][0]!, waited[i]!));
    } finally {
      clearInterval(timer);
    }
  });
});
