// The recorded answers the replay feeds: a 200-chunk Chat Completions stream recorded from the
// simulator when the benchmark starts (the overhead benchmark's streamed call), and every SSE
// recording of packages/instrumentation/test/recordings (tool calls, reasoning, Anthropic, Gemini).
// Each body is cut into the pieces that arrive as one network chunk: one SSE event each, as the
// simulator writes them.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { scenarioHeaders, startSimulator } from '@llm-prism/simulator';
import { ROOT } from '../lib/results.ts';

export type Provider = 'openai-chat' | 'openai-responses' | 'anthropic' | 'gemini';

export interface ReplayStream {
  name: string;
  provider: Provider;
  headers: Map<string, string>;
  chunks: Buffer[];
  bytes: number;
}

const RECORDINGS = `${ROOT}/packages/instrumentation/test/recordings`;

/** One SSE event per piece, each with its blank line. */
export function eventPieces(body: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (let i = body.indexOf('\n\n'); i >= 0; i = body.indexOf('\n\n', from)) {
    pieces.push(body.subarray(from, i + 2));
    from = i + 2;
  }
  if (from < body.length) pieces.push(body.subarray(from));
  return pieces;
}

function stream(name: string, provider: Provider, headers: Record<string, string>, body: Buffer): ReplayStream {
  const map = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { name, provider, headers: map, chunks: eventPieces(body), bytes: body.length };
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

/** The overhead benchmark's streamed call (`chunks` one-token chunks and a usage chunk), as the simulator answers it. */
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
    return stream(`simulator/chat-stream-${chunks}`, 'openai-chat', responseHeaders, bytes);
  } finally {
    await sim.close();
  }
}

/** A stream as JSON (chunks in base64), for a process that replays it (callgrind.ts). */
export const toJson = (s: ReplayStream): string => JSON.stringify({ ...s, headers: Object.fromEntries(s.headers), chunks: s.chunks.map((c) => c.toString('base64')) });

export function fromJson(text: string): ReplayStream {
  const s = JSON.parse(text) as Omit<ReplayStream, 'headers' | 'chunks'> & { headers: Record<string, string>; chunks: string[] };
  return { ...s, headers: new Map(Object.entries(s.headers)), chunks: s.chunks.map((c) => Buffer.from(c, 'base64')) };
}
