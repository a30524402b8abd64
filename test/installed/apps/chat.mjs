// An ESM service as users write it: a plain call, then a streamed call read late.
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.SIM_URL, apiKey: 'test-key' });
const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
// First: the process's first request also pays for loading fetch and connecting.
const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
// The whole answer has arrived before the application reads it: phases must not move.
await sleep(Number(process.env.LATE_MS));
let streamed = '';
for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
console.log(JSON.stringify({ streamed: streamed.length, answered: answer.choices[0].message.content.length }));
