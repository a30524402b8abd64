/**
 * The call starts when the application calls (issue 12, item 4): the call span's start is taken on
 * entry to the patched SDK method, before any work of the instrumentation, and the prompt-cache
 * fingerprinting (canonical JSON and SHA-256 of the whole prompt) runs after the response, from a
 * structural snapshot taken at call start, so big prompts neither start their span late nor delay
 * the request (queue and TTFT stay true).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useHarness } from '../test/contract.ts';
import { TIMING, durationMs, finishedCalls, scenario, startMs, treeOf } from '../test/harness.ts';
import { expectFaithful } from '../test/sdk-majors-harness.ts';
import { anchoredEpoch } from './stats.ts';

const h = useHarness();
const MiB = 1024 * 1024;
// The simulator in this process reads, parses and tokenizes the prompt before it can answer (4 MiB:
// ~100 ms, 200+ ms beside another test file's load): a queue longer than that work keeps its due
// times the truth, as in wire-calls.test.ts.
const TIMINGS = { queueMs: 1_000, prefillMs: 300, chunks: 5, chunkIntervalMs: 20 };

describe('a big prompt starts its call span when the application calls', () => {
  // The process's first call pays the client's cold start (issue 12, item 5), not measured here.
  beforeAll(async () => {
    for await (const _ of await h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'warm up' }], stream: true }, scenario({ chunks: 1 })));
  });

  for (const size of [1 * MiB, 4 * MiB]) {
    it(`${size / MiB} MiB prompt: span start within 5 ms of the call, queue and TTFT as injected`, TIMING, async () => {
      const content = 'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(size / 45)).slice(0, size);
      const messages = [{ role: 'user' as const, content }];
      // On the instrumentation's clock (stats.ts): the wall clock's when it parts from the monotonic
      // one, as it does while NTP slews it (a CI machine read 4.6 ms apart).
      const calledAt = anchoredEpoch()(performance.now());
      const stream = await h.client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }, scenario(TIMINGS));
      for await (const _ of stream);

      const [call] = await finishedCalls(h.exporter);
      const t = treeOf(h.exporter, call!);
      const late = startMs(t.call) - calledAt;
      expect(late, `span start ${late.toFixed(2)} ms after the call`).toBeGreaterThanOrEqual(-0.5);
      expect(late, `span start ${late.toFixed(2)} ms after the call`).toBeLessThanOrEqual(5);
      expectFaithful(durationMs(t.queue!), TIMINGS.queueMs, 'queue');
      expectFaithful(durationMs(t.ttft!), TIMINGS.queueMs + TIMINGS.prefillMs, 'ttft');
      // The classification still ran (lazily, after the response).
      expect(t.call.attributes['llm.cache.prefix_hash']).toMatch(/^[0-9a-f]{16}$/);
    });
  }
});

describe('a wall clock stepped since the process started (NTP, a VM resumed, a machine that slept)', () => {
  it('puts the call on the wall clock, as the OTel SDK puts its own spans, its phases unchanged', TIMING, async () => {
    const STEP = 3_600_000;
    // The stepped wall clock is the truth, whatever the monotonic clock says beside it.
    const calledAt = Date.now() + STEP;
    vi.useFakeTimers({ toFake: ['Date'], now: calledAt });
    try {
      const stream = await h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'What time is it?' }], stream: true }, scenario(TIMINGS));
      for await (const _ of stream);
    } finally {
      vi.useRealTimers();
    }
    const [call] = await finishedCalls(h.exporter);
    const t = treeOf(h.exporter, call!);
    const late = startMs(t.call) - calledAt;
    // The fake clock stands still from the step on: the call starts at it, within the truncation of Date.now().
    expect(late, `span start ${late.toFixed(2)} ms after the call on the stepped clock`).toBeGreaterThanOrEqual(-2);
    expect(late, `span start ${late.toFixed(2)} ms after the call on the stepped clock`).toBeLessThanOrEqual(5);
    expectFaithful(durationMs(t.queue!), TIMINGS.queueMs, 'queue');
    expectFaithful(durationMs(t.ttft!), TIMINGS.queueMs + TIMINGS.prefillMs, 'ttft');
    expect(startMs(t.ttft!)).toBeGreaterThanOrEqual(startMs(t.call));
  });
});

describe('the prompt cache classifies the request as called', () => {
  it('ignores changes the application makes to its params object after the call', async () => {
    const system = 'You are a careful assistant. '.repeat(260);
    const asCalled = () => ({
      model: 'gpt-4o',
      messages: [
        { role: 'system' as const, content: system },
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'First question' }] },
      ],
    });
    await h.client.chat.completions.create(asCalled());
    const [reference] = await finishedCalls(h.exporter, 1);
    h.exporter.reset();

    const params = asCalled();
    const pending = h.client.chat.completions.create(params);
    // The usual reuse: the next turn built in the same object, and a part edited in place.
    params.messages.push({ role: 'user', content: [{ type: 'text', text: 'Second question' }] });
    const part = (params.messages[1]!.content as { text: string }[])[0]!;
    part.text = 'edited';
    params.messages[0]!.content = 'another system prompt';
    await pending;
    const [mutated] = await finishedCalls(h.exporter, 1);

    expect(reference!.attributes['llm.cache.prefix_hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(mutated!.attributes['llm.cache.prefix_hash']).toBe(reference!.attributes['llm.cache.prefix_hash']);
  });
});
