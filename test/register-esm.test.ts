import { expect, it } from 'vitest';
import { attributesOf, runUnderRegister } from './register-harness.ts';
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

it("signal-exit's listener (no application handler): SIGTERM still ends the process, by the signal, after the flush", async () => {
  const run = runUnderRegister('register-signal-exit.mjs', 'register-signal-exit', { terminateOn: 'ready' });
  const ended = await run.then(
    () => ({ signal: undefined, stdout: '' }),
    (err: { signal?: string; stdout?: string }) => ({ signal: err.signal, stdout: err.stdout ?? '' }),
  );
  expect(ended.signal).toBe('SIGTERM');
  expect(ended.stdout.split('\n').filter(Boolean).map((l) => (l === 'ready' ? l : JSON.parse(l)))).toEqual([{ text: expect.stringMatching(/tok/) }, 'ready', { onExit: 'SIGTERM' }]);
}, 20_000);
