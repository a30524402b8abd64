/** Prompt and completion text are recorded only on opt-in. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, finishedCalls, scenario, type Harness } from './test-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ captureMessageContent: true });
});
afterAll(() => h.close());

it('records gen_ai.input.messages and gen_ai.output.messages when asked to', async () => {
  const stream = await h.client.chat.completions.create(
    {
      model: 'gpt-4o',
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
    },
    scenario({ chunks: 3, toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}', fragments: 2 }] }),
  );
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  const [call] = await finishedCalls(h.exporter);
  expect(JSON.parse(call!.attributes['gen_ai.input.messages'] as string)).toEqual([
    { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
  ]);
  const [output] = JSON.parse(call!.attributes['gen_ai.output.messages'] as string) as Array<{ parts: unknown[] }>;
  expect(output).toMatchObject({ role: 'assistant', finish_reason: 'tool_calls' });
  expect(output!.parts).toEqual([
    { type: 'text', content: text },
    { type: 'tool_call', id: expect.stringMatching(/^call_/), name: 'get_weather', arguments: '{"city":"Paris"}' },
  ]);
});
