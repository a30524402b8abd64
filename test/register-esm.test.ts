import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { attributesOf, durationMs, runUnderRegister } from './register-harness.ts';
import { expectCallTrees } from './register-expectations.ts';

it('instruments an ESM app started with --import @llm-prism/instrumentation/register', async () => {
  const run = await runUnderRegister('register-app.mjs', 'register-esm-app');
  expect(JSON.parse(run.stdout).text).toMatch(/tok/);
  expectCallTrees(run, 'register-esm-app');
  expect(attributesOf(run.spans.find((s) => s.name === 'chat gpt-5')!)['gen_ai.request.stream']).toBe(false);
});

it('an instrumentation the app constructs after importing openai (the loader hook active): constructed, and the call recorded once', async () => {
  const run = await runUnderRegister('register-late-instance.mjs', 'register-late-instance');
  expect(JSON.parse(run.stdout)).toMatchObject({ enabled: true, text: expect.stringMatching(/tok/) });
  expect(run.spans.filter((s) => s.name === 'chat gpt-4o')).toHaveLength(1);
});

it("an app's own SIGTERM handler drains: the process ends by it, and the call it let finish is exported", async () => {
  const run = await runUnderRegister('register-graceful.mjs', 'register-graceful', { terminateOn: 'ready' });
  expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ signals: 1, text: expect.stringMatching(/tok/) });
  expect(run.spans.filter((s) => s.name === 'chat gpt-4o')).toHaveLength(1);
});

it("signal-exit's listener (no application handler): SIGTERM still ends the process, by the signal, after the flush; calls in flight are exported as aborted", async () => {
  const run = await runUnderRegister('register-signal-exit.mjs', 'register-signal-exit', { terminateOn: 'ready' });
  expect(run.signal).toBe('SIGTERM');
  expect(run.stdout.split('\n').filter(Boolean).map((l) => (l === 'ready' ? l : JSON.parse(l)))).toEqual([{ text: expect.stringMatching(/tok/) }, 'ready', { onExit: 'SIGTERM' }]);
  const calls = new Map(run.spans.filter((s) => s.name.startsWith('chat ')).map((s) => [s.name, { attributes: attributesOf(s), ms: durationMs(s) }]));
  expect([...calls.keys()].sort()).toEqual(['chat gpt-4o', 'chat gpt-4o-mini', 'chat gpt-5']);
  expect(calls.get('chat gpt-4o')!.attributes['llm.outcome']).toBe('success');
  // Ended at the signal, not when an answer came (it would have taken 20 s): shorter than the test.
  const queued = calls.get('chat gpt-4o-mini')!;
  expect(queued.attributes).toMatchObject({ 'llm.outcome': 'aborted' });
  expect(queued.attributes['error.type']).toBeUndefined();
  expect(queued.ms).toBeLessThan(15_000);
  const streaming = calls.get('chat gpt-5')!;
  expect(streaming.attributes).toMatchObject({ 'llm.outcome': 'aborted', 'gen_ai.request.stream': true });
  // Three output chunks were read before the signal (200 ms apart), far fewer than the 100 sent.
  expect(streaming.attributes['llm.stream.chunks']).toBeGreaterThanOrEqual(3);
  expect(streaming.attributes['llm.stream.chunks']).toBeLessThan(50);
  expect(streaming.attributes['llm.ttft_ms']).toBeLessThan(streaming.ms);
}, 30_000);

it('calls the application never awaits fail with unhandledRejection, as without instrumentation, and are still recorded', async () => {
  const run = await runUnderRegister('register-unhandled.mjs', 'register-unhandled');
  // Observing a call's outcome must not mark its failure handled.
  expect(JSON.parse(run.stdout)).toEqual({
    unhandled: ['InternalServerError', 'InternalServerError', 'InternalServerError'],
    late: 'InternalServerError',
    awaited: 'InternalServerError',
    parsed: 'InternalServerError',
    parsedResponse: 'InternalServerError',
  });
  const outcomes = run.spans.filter((s) => s.kind === 3).map((s) => [s.name, attributesOf(s)['llm.outcome'], attributesOf(s)['error.type']]);
  expect(outcomes.sort()).toEqual([
    ['chat claude-sonnet-5-5', 'error', '500'],
    ['chat gpt-4o', 'error', '500'],
    ['chat gpt-4o-mini', 'error', '500'],
    ['chat gpt-5', 'error', '500'],
    ['chat gpt-5', 'error', '500'],
    ['chat gpt-5', 'error', '500'],
  ]);
});

it('SIGTERM with a collector that never answers: the process ends by the signal within the exporter timeout, however many batches are left', async () => {
  const run = await runUnderRegister('register-signal-hang.mjs', 'register-signal-hang', { terminateOn: 'ready', hangingCollector: true, env: { OTEL_EXPORTER_OTLP_TIMEOUT: '1000' } });
  expect(run.signal).toBe('SIGTERM');
  console.log(`ended ${run.msAfterSignal?.toFixed(0)} ms after SIGTERM`);
  // 12 batches of 512 spans: one timeout, not one per batch (the margin is the process's exit).
  expect(run.msAfterSignal).toBeLessThan(1000 + 1500);
}, 60_000);

it('the same signal again while the export waits (a second Ctrl-C): the process ends at once, as without instrumentation', async () => {
  const run = await runUnderRegister('register-signal-hang.mjs', 'register-signal-again', { terminateOn: 'ready', againAfterMs: 300, hangingCollector: true, env: { OTEL_EXPORTER_OTLP_TIMEOUT: '10000' } });
  expect(run.signal).toBe('SIGTERM');
  // Not the 10 s the export would wait.
  expect(run.msAfterSignal).toBeLessThan(300 + 2000);
}, 60_000);

it('an ESM app on @anthropic-ai/sdk 0.41 (a `_shims` registry): it starts, and its call is recorded', async () => {
  const run = await runUnderRegister('register-anthropic-041.mjs', 'register-anthropic-041');
  expect(JSON.parse(run.stdout).text).toMatch(/tok/);
  expect(run.spans.filter((s) => s.name === 'chat claude-sonnet-5-5').map((s) => attributesOf(s)['llm.outcome'])).toEqual(['success']);
});

it("an ESM app that imports '@google/genai/node' first, or '@google/genai/web': the SDK is patched, so a call aborted before it reached the wire is recorded too", async () => {
  const run = await runUnderRegister('register-genai-subpaths.mjs', 'register-genai-subpaths');
  expect(JSON.parse(run.stdout)).toEqual({ node: { aborted: 'AbortError', chunks: 5 }, web: { aborted: 'AbortError', chunks: 5 } });
  const calls = run.spans.filter((s) => s.kind === 3).map((s) => [s.name, attributesOf(s)['llm.outcome']]);
  expect(calls.sort()).toEqual([
    ['generate_content gemini-2.5-flash-node', 'aborted'],
    ['generate_content gemini-2.5-flash-web', 'aborted'],
    ['generate_content gemini-2.5-pro-node', 'success'],
    ['generate_content gemini-2.5-pro-web', 'success'],
  ]);
});

it('a second copy of @llm-prism/instrumentation in the process (a dependency enables its own): it stands down, and each call is recorded once', async () => {
  // The copy: this package's sources outside the repo, resolving its dependencies (the same
  // @opentelemetry/api, the same SDKs) from the repo's node_modules, as a nested install would.
  const root = await mkdtemp(join(tmpdir(), 'llm-prism-second-copy-'));
  try {
    await cp(fileURLToPath(new URL('../packages/instrumentation/', import.meta.url)), join(root, 'instrumentation'), {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|dist)$/.test(src) && !src.endsWith('.test.ts'),
    });
    await symlink(fileURLToPath(new URL('../node_modules', import.meta.url)), join(root, 'node_modules'));
    const run = await runUnderRegister('register-second-copy.mjs', 'register-second-copy', { env: { SECOND_COPY: join(root, 'instrumentation', 'src', 'index.ts') } });
    const calls = run.spans.filter((s) => s.kind === 3).map((s) => [s.name, attributesOf(s)['llm.outcome'], attributesOf(s)['llm.ttft_ms'] === undefined]);
    expect(calls.sort()).toEqual([
      ['chat gpt-4o', 'success', false],
      ['chat gpt-4o-mini', 'success', true],
    ]);
    expect(JSON.parse(run.stdout)).toMatchObject({ secondCopyEnabled: false, text: expect.stringMatching(/tok/), chunks: expect.any(Number) });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
