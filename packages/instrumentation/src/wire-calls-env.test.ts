/** LLM_PRISM_WIRE_CALLS=false is read once, when the instrumentation is constructed; the config wins. */
import { SpanKind } from '@opentelemetry/api';
import { SCENARIO_HEADER } from '@llm-prism/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, finishedCalls, sleep, type Harness } from '../test/harness.ts';

const VARIABLE = 'LLM_PRISM_WIRE_CALLS';
let h: Harness;
const previous = process.env[VARIABLE];
beforeAll(async () => {
  process.env[VARIABLE] = ' False ';
  // The harness turns wire calls off in its config: here the config leaves it to the environment.
  h = await createHarness({ wireCalls: undefined });
  delete process.env[VARIABLE]; // later changes are not seen
});
afterAll(async () => {
  if (previous === undefined) delete process.env[VARIABLE];
  else process.env[VARIABLE] = previous;
  await h.close();
});

/** A chat completion sent with plain fetch, outside any patched SDK: a call only the wire can recognise. */
async function wireCall(): Promise<void> {
  h.exporter.reset();
  const res = await fetch(`${h.sim.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SCENARIO_HEADER]: JSON.stringify({ chunks: 2 }) },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
}
const clientSpans = () => h.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);

it('recognises no call on the wire when the environment said false at construction', async () => {
  await wireCall();
  await sleep(300);
  await h.provider.forceFlush();
  expect(clientSpans()).toEqual([]);
});

it('lets wireCalls in the config win over the environment', async () => {
  h.instrumentation.setConfig({ wireCalls: true });
  await wireCall();
  const [call] = await finishedCalls(h.exporter);
  expect(call?.name).toBe('chat gpt-4o');
  h.instrumentation.setConfig({ wireCalls: undefined });
  await wireCall();
  await sleep(300);
  await h.provider.forceFlush();
  expect(clientSpans()).toEqual([]);
});
