/** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is read once, when the instrumentation is constructed; the config wins. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, finishedCalls, scenario, type Harness } from '../test/harness.ts';
import { ATTR_GEN_AI_INPUT_MESSAGES, ATTR_GEN_AI_OUTPUT_MESSAGES } from './semconv.ts';

const VARIABLE = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';
let h: Harness;
const previous = process.env[VARIABLE];
beforeAll(async () => {
  process.env[VARIABLE] = 'True';
  h = await createHarness();
  delete process.env[VARIABLE]; // later changes are not seen
});
afterAll(async () => {
  if (previous === undefined) delete process.env[VARIABLE];
  else process.env[VARIABLE] = previous;
  await h.close();
});

async function call(): Promise<Record<string, unknown>> {
  h.exporter.reset();
  await h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] }, scenario({ chunks: 2 }));
  const [span] = await finishedCalls(h.exporter);
  return span!.attributes;
}

it('captures content as the environment said at construction', async () => {
  const attributes = await call();
  expect(JSON.parse(attributes[ATTR_GEN_AI_INPUT_MESSAGES] as string)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hello' }] }]);
  expect(attributes[ATTR_GEN_AI_OUTPUT_MESSAGES]).toEqual(expect.any(String));
});

it('lets captureMessageContent in the config win over the environment', async () => {
  h.instrumentation.setConfig({ captureMessageContent: false });
  const attributes = await call();
  expect(attributes[ATTR_GEN_AI_INPUT_MESSAGES]).toBeUndefined();
  expect(attributes[ATTR_GEN_AI_OUTPUT_MESSAGES]).toBeUndefined();
  h.instrumentation.setConfig({});
  expect((await call())[ATTR_GEN_AI_INPUT_MESSAGES]).toEqual(expect.any(String));
});
