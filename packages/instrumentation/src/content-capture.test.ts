/** Prompt and completion text are recorded only on opt-in. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, finishedCalls, scenario, type Harness } from '../test/harness.ts';

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

it('records Anthropic system, messages, thinking, text and tool_use', async () => {
  h.exporter.reset();
  const message = await h.anthropic.messages
    .stream(
      { model: 'claude-sonnet-5-5', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'Weather in Paris?' }] },
      scenario({ thinkingChunks: 2, chunks: 2, toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}', fragments: 2 }] }),
    )
    .finalMessage();
  const [call] = await finishedCalls(h.exporter);
  expect(JSON.parse(call!.attributes['gen_ai.input.messages'] as string)).toEqual([
    { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
  ]);
  const byType = Object.fromEntries(message.content.map((b) => [b.type, b]));
  const [output] = JSON.parse(call!.attributes['gen_ai.output.messages'] as string) as Array<{ parts: unknown[] }>;
  expect(output).toMatchObject({ role: 'assistant', finish_reason: 'tool_use' });
  expect(output!.parts).toEqual([
    { type: 'reasoning', content: byType.thinking?.type === 'thinking' ? byType.thinking.thinking : undefined },
    { type: 'text', content: byType.text?.type === 'text' ? byType.text.text : undefined },
    { type: 'tool_call', id: byType.tool_use?.type === 'tool_use' ? byType.tool_use.id : undefined, name: 'get_weather', arguments: '{"city":"Paris"}' },
  ]);
});

it('records Gemini systemInstruction, contents, thoughts, text and function calls', async () => {
  h.exporter.reset();
  const response = await h.gemini.models.generateContent({
    model: 'gemini-2.5-flash',
    contents: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }],
    config: { systemInstruction: 'Be brief.', httpOptions: scenario({ thinkingChunks: 1, chunks: 2, toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] }) },
  });
  const [call] = await finishedCalls(h.exporter);
  expect(JSON.parse(call!.attributes['gen_ai.input.messages'] as string)).toEqual([
    { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
  ]);
  const [output] = JSON.parse(call!.attributes['gen_ai.output.messages'] as string) as Array<{ parts: unknown[] }>;
  expect(output).toMatchObject({ role: 'assistant', finish_reason: 'STOP' });
  expect(output!.parts).toEqual([
    { type: 'reasoning', content: 'hmm ' },
    { type: 'text', content: response.text },
    { type: 'tool_call', id: response.functionCalls![0]!.id, name: 'get_weather', arguments: '{"city":"Paris"}' },
  ]);
});
