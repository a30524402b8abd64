/**
 * Records the simulator's answers to a few requests as replayable recordings (README.md here):
 * `<provider>/<case>.response.json` (the request sent, the status and headers) and
 * `<case>.body.sse` / `<case>.body.json` (the body bytes as they came). Run from the repository root:
 *
 *   npx node --conditions=llm-prism-source packages/instrumentation/test/recordings/record.ts
 *
 * The expectations beside them (`<case>.expect.json`) are written by hand from the recorded bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioHeaders, startSimulator, type Scenario } from '@llm-prism/simulator';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Case {
  provider: 'openai' | 'anthropic' | 'gemini';
  name: string;
  /** Path under the simulator's root. */
  path: string;
  body: object;
  scenario: Scenario;
}

const TOOLS = [
  { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', fragments: 3 },
  { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}', fragments: 2 },
];
const user = (content: string) => [{ role: 'user', content }];

const CASES: Case[] = [
  { provider: 'openai', name: 'chat-stream-tools', path: '/v1/chat/completions', body: { model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: user('Weather and time in Paris?') }, scenario: { chunks: 2, toolCalls: TOOLS } },
  { provider: 'openai', name: 'chat-text', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: user('Say hello.') }, scenario: { chunks: 4 } },
  { provider: 'openai', name: 'responses-stream-function-call', path: '/v1/responses', body: { model: 'gpt-5', stream: true, input: 'Weather in Paris?' }, scenario: { chunks: 2, toolCalls: [TOOLS[0]!] } },
  { provider: 'anthropic', name: 'messages-stream-thinking-tool', path: '/v1/messages', body: { model: 'claude-sonnet-5-5', max_tokens: 1024, stream: true, messages: user('Weather in Paris?') }, scenario: { thinkingChunks: 2, chunks: 2, toolCalls: [TOOLS[0]!] } },
  { provider: 'gemini', name: 'stream-text', path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body: { contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }] }, scenario: { chunks: 3 } },
  { provider: 'gemini', name: 'generate-function-calls', path: '/v1beta/models/gemini-2.5-flash:generateContent', body: { contents: [{ role: 'user', parts: [{ text: 'Weather and time in Paris?' }] }] }, scenario: { chunks: 1, toolCalls: TOOLS } },
];

/** Headers that describe the connection, not the answer, are left out. */
const CONNECTION = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

const sim = await startSimulator({ port: 0 });
try {
  for (const c of CASES) {
    const res = await fetch(`${sim.url}${c.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...scenarioHeaders(c.scenario) }, body: JSON.stringify(c.body) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const headers = Object.fromEntries([...res.headers].filter(([name]) => !CONNECTION.has(name)));
    const sse = /^text\/event-stream/.test(res.headers.get('content-type') ?? '');
    const base = join(HERE, c.provider, c.name);
    await mkdir(dirname(base), { recursive: true });
    await writeFile(`${base}.response.json`, `${JSON.stringify({ source: 'simulator', request: { path: c.path, body: c.body }, status: res.status, headers }, null, 2)}\n`);
    await writeFile(`${base}.body.${sse ? 'sse' : 'json'}`, bytes);
    console.log(`${c.provider}/${c.name}: ${res.status}, ${bytes.length} bytes`);
  }
} finally {
  await sim.close();
}
