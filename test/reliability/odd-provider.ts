// A raw node:http server that answers the OpenAI SDK with shapes no real provider sends: broken
// SSE, wrong JSON types, truncated events, odd headers. The request's `model` names the case.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

interface OddReply {
  /** Streamed (SSE) or one JSON body; decides the request's `stream` flag too. */
  stream: boolean;
  status?: number;
  headers?: Record<string, string>;
  /** Raw body pieces, written 5 ms apart. */
  pieces: string[];
  /** Destroy the socket after the pieces instead of ending the response. */
  destroy?: boolean;
}

const chunk = (fields: object) => `data: ${JSON.stringify({ id: 'chatcmpl-odd', object: 'chat.completion.chunk', created: 1, model: 'odd', ...fields })}\n\n`;
const text = (content: string) => chunk({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });

export const ODD_CASES: Record<string, OddReply> = {
  'sse-not-json': { stream: true, pieces: [text('a'), 'data: not json\n\n', 'data: [DONE]\n\n'] },
  'sse-wrong-types': {
    stream: true,
    pieces: [chunk({ choices: 'oops', usage: { prompt_tokens: 'many', completion_tokens: -1 } }), text('b'), 'data: [DONE]\n\n'],
  },
  'sse-null-delta': {
    stream: true,
    pieces: [chunk({ choices: [{ index: 0, delta: null, finish_reason: 'stop' }] }), chunk({ choices: [null] }), 'data: [DONE]\n\n'],
  },
  'sse-no-done': { stream: true, pieces: [text('only'), text(' this')] },
  'sse-error-string': { stream: true, pieces: [text('x'), 'data: {"error":"boom"}\n\n'] },
  'sse-odd-lines': {
    stream: true,
    pieces: [': comment\n\n', 'event: weird\n' + text('w'), 'retry: abc\nid: 7\n\n', text('z'), 'data: [DONE]\n\n'],
  },
  'sse-cut-mid-event': { stream: true, pieces: [text('start'), 'data: {"id":"chatcmpl-odd","cho'], destroy: true },
  'sse-unicode': { stream: true, pieces: [text('🚀'.repeat(20_000)), 'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\\ud800 lone"}}]}\n\n', 'data: [DONE]\n\n'] },
  'sse-usage-only': {
    stream: true,
    pieces: [chunk({ choices: [], usage: { prompt_tokens: 1e308, completion_tokens: null, prompt_tokens_details: 'none' } }), 'data: [DONE]\n\n'],
  },
  'sse-garbage-headers': {
    stream: true,
    headers: { 'x-ratelimit-limit-requests': '-1', 'x-ratelimit-remaining-requests': 'abc', 'x-ratelimit-reset-requests': 'never', 'x-request-id': '' },
    pieces: [text('h'), 'data: [DONE]\n\n'],
  },
  'json-choices-null': { stream: false, pieces: ['{"id":"x","object":"chat.completion","choices":null,"usage":"none"}'] },
  'json-array': { stream: false, pieces: ['[]'] },
  'json-empty-body': { stream: false, pieces: [] },
  'json-truncated': { stream: false, pieces: ['{"id":"x","choices":[{"message":'], destroy: true },
  'html-200': { stream: false, headers: { 'content-type': 'text/html' }, pieces: ['<html><body>gateway says hi</body></html>'] },
  'sse-for-non-stream': { stream: false, headers: { 'content-type': 'text/event-stream' }, pieces: [text('s'), 'data: [DONE]\n\n'] },
  '429-odd-headers': {
    stream: true,
    status: 429,
    headers: { 'retry-after-ms': '5', 'retry-after': 'soon', 'x-ratelimit-remaining-requests': 'NaN' },
    pieces: ['{"error":{"message":"slow down","type":"rate_limit"}}'],
  },
  '500-non-json': { stream: false, status: 500, headers: { 'content-type': 'text/plain', 'retry-after-ms': '5' }, pieces: ['oops'] },
  '400-error-wrong-types': { stream: true, status: 400, pieces: ['{"error":{"message":42,"type":null,"code":{"nested":true}}}'] },
};

export interface OddProvider {
  baseURL: string;
  close(): Promise<void>;
}

export async function startOddProvider(): Promise<OddProvider> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      const model = (JSON.parse(body) as { model: string }).model;
      const reply = ODD_CASES[model]!;
      const type = reply.stream && !reply.status ? 'text/event-stream' : 'application/json';
      res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers });
      for (const piece of reply.pieces) {
        res.write(piece);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (reply.destroy) res.destroy();
      else res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
