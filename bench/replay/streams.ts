// The recorded answers the replay feeds: a 200-chunk Chat Completions stream recorded from the
// simulator (the overhead benchmark's streamed call), kept in bench/replay/chat-stream-200.sse so
// that every run and every version of the code replays the same bytes, and every SSE
// recording of packages/instrumentation/test/recordings (tool calls, reasoning, Anthropic, Gemini).
// Each body is cut into the pieces that arrive as one network chunk: one SSE event each, as the
// simulator writes them.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { scenarioHeaders, startSimulator } from '@llm-prism/simulator';
import { eventPieces } from '../../packages/instrumentation/test/sse-pieces.ts';
import { ROOT } from '../lib/results.ts';

export { eventPieces };

export type Provider = 'openai-chat' | 'openai-responses' | 'anthropic' | 'gemini';

export interface ReplayStream {
  name: string;
  /** Whose wire format: the adapter the replay decodes it with. */
  provider: Provider;
  headers: Map<string, string>;
  chunks: Buffer[];
  bytes: number;
  /** The body as recorded. */
  body: Buffer;
}

const RECORDINGS = `${ROOT}/packages/instrumentation/test/recordings`;


function stream(name: string, provider: Provider, headers: Record<string, string>, body: Buffer): ReplayStream {
  const map = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { name, provider, headers: map, chunks: eventPieces(body), bytes: body.length, body };
}

function providerOf(dir: string, request: { path?: string } | undefined, sdk: string): Provider {
  if (dir === 'anthropic') return 'anthropic';
  if (dir === 'gemini') return 'gemini';
  return sdk === 'openai.responses' || request?.path?.includes('/responses') ? 'openai-responses' : 'openai-chat';
}

/** The SSE recordings of the instrumentation's tests. */
export function testRecordings(): ReplayStream[] {
  const out: ReplayStream[] = [];
  for (const dir of readdirSync(RECORDINGS, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const file of readdirSync(`${RECORDINGS}/${dir.name}`)) {
      if (!file.endsWith('.body.sse')) continue;
      const id = file.slice(0, -'.body.sse'.length);
      const response = JSON.parse(readFileSync(`${RECORDINGS}/${dir.name}/${id}.response.json`, 'utf8')) as { headers: Record<string, string>; request?: { path?: string } };
      const expect = JSON.parse(readFileSync(`${RECORDINGS}/${dir.name}/${id}.expect.json`, 'utf8')) as { call: { sdk: string } };
      out.push(stream(`${dir.name}/${id}`, providerOf(dir.name, response.request, expect.call.sdk), response.headers, readFileSync(`${RECORDINGS}/${dir.name}/${file}`)));
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8' };
export const KEPT_STREAM = `${ROOT}/bench/replay/chat-stream-200.sse`;

/** The kept recording (`KEPT_STREAM`). */
export const keptChatStream = (): ReplayStream => stream('simulator/chat-stream-200', 'openai-chat', SSE_HEADERS, readFileSync(KEPT_STREAM));

/** The overhead benchmark's streamed call (`chunks` one-token chunks and a usage chunk), as the simulator answers it now. */
export async function simulatorChatStream(chunks: number): Promise<ReplayStream> {
  const sim = await startSimulator({ port: 0 });
  try {
    const url = new URL(`${sim.openaiBaseURL}/chat/completions`);
    const body = JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Summarise the benchmark in two hundred words.' }] });
    const headers = { 'content-type': 'application/json', ...scenarioHeaders({ chunks, tokensPerChunk: 1, chunkIntervalMs: 0 }) };
    const { status, responseHeaders, bytes } = await new Promise<{ status: number; responseHeaders: Record<string, string>; bytes: Buffer }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, responseHeaders: res.headers as Record<string, string>, bytes: Buffer.concat(parts) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    if (status !== 200) throw new Error(`simulator answered ${status}`);
    return stream(`simulator/chat-stream-${chunks}`, 'openai-chat', { ...responseHeaders, ...SSE_HEADERS }, bytes);
  } finally {
    await sim.close();
  }
}

/** A stream as JSON (its body in base64), for a process that replays it (callgrind.ts). */
export const toJson = (s: ReplayStream): string => JSON.stringify({ name: s.name, provider: s.provider, headers: Object.fromEntries(s.headers), body: s.body.toString('base64') });

export function fromJson(text: string): ReplayStream {
  const s = JSON.parse(text) as { name: string; provider: Provider; headers: Record<string, string>; body: string };
  return stream(s.name, s.provider, s.headers, Buffer.from(s.body, 'base64'));
}
