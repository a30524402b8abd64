// A CommonJS service as users write it, using the instrumentation's API through require().
const { setTimeout: sleep } = require('node:timers/promises');
const openai = require('openai');
const { withLlmContext, LlmPrismInstrumentation } = require('@llm-prism/instrumentation');

const OpenAI = openai.OpenAI ?? openai.default ?? openai;
const client = new OpenAI({ baseURL: process.env.SIM_URL, apiKey: 'test-key' });
const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];

withLlmContext({ conversationId: 'installed-cjs' }, async () => {
  // First: the process's first request also pays for loading fetch and connecting.
  const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
  await sleep(Number(process.env.LATE_MS));
  let streamed = '';
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
  console.log(JSON.stringify({ streamed: streamed.length, answered: answer.choices[0].message.content.length, api: typeof LlmPrismInstrumentation }));
}).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
