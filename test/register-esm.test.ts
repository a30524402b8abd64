import { expect, it } from 'vitest';
import { attributesOf, runUnderRegister } from './register-harness.ts';
import { expectCallTrees } from './register-expectations.ts';

it('instruments an ESM app started with --import @llm-prism/instrumentation/register', async () => {
  const run = await runUnderRegister('register-app.mjs', 'register-esm-app');
  expect(JSON.parse(run.stdout).text).toMatch(/tok/);
  expectCallTrees(run, 'register-esm-app');
  expect(attributesOf(run.spans.find((s) => s.name === 'chat gpt-5')!)['gen_ai.request.stream']).toBe(false);
});
