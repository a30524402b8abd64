// A raw node:http server that answers the OpenAI, Anthropic and Gemini SDKs with shapes no real
// provider sends: broken SSE, wrong JSON types, truncated events, odd headers. The request's model
// (in the body, or in Gemini's URL path) names the case.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

export type OddSdk = 'openai' | 'anthropic' | 'gemini';

interface OddReply {
  /** The SDK whose request this case answers. */
  sdk: OddSdk;
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
const anthropic = (type: string, fields: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
const gemini = (fields: object) => `data: ${JSON.stringify(fields)}\r\n\r\n`;
const text = (content: string) => chunk({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });

export const ODD_CASES: Record<string, OddReply> = {
  'sse-not-json': { sdk: 'openai', stream: true, pieces: [text('a'), 'data: not json\n\n', 'data: [DONE]\n\n'] },
  'sse-wrong-types': {
    sdk: 'openai',
    stream: true,
    pieces: [chunk({ choices: 'oops', usage: { prompt_tokens: 'many', completion_tokens: -1 } }), text('b'), 'data: [DONE]\n\n'],
  },
  'sse-null-delta': {
    sdk: 'openai',
    stream: true,
    pieces: [chunk({ choices: [{ index: 0, delta: null, finish_reason: 'stop' }] }), chunk({ choices: [null] }), 'data: [DONE]\n\n'],
  },
  'sse-no-done': { sdk: 'openai', stream: true, pieces: [text('only'), text(' this')] },
  'sse-error-string': { sdk: 'openai', stream: true, pieces: [text('x'), 'data: {"error":"boom"}\n\n'] },
  'sse-odd-lines': {
    sdk: 'openai',
    stream: true,
    pieces: [': comment\n\n', 'event: weird\n' + text('w'), 'retry: abc\nid: 7\n\n', text('z'), 'data: [DONE]\n\n'],
  },
  'sse-cut-mid-event': { sdk: 'openai', stream: true, pieces: [text('start'), 'data: {"id":"chatcmpl-odd","cho'], destroy: true },
  'sse-unicode': { sdk: 'openai', stream: true, pieces: [text('🚀'.repeat(20_000)), 'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\\ud800 lone"}}]}\n\n', 'data: [DONE]\n\n'] },
  'sse-usage-only': {
    sdk: 'openai',
    stream: true,
    pieces: [chunk({ choices: [], usage: { prompt_tokens: 1e308, completion_tokens: null, prompt_tokens_details: 'none' } }), 'data: [DONE]\n\n'],
  },
  'sse-garbage-headers': {
    sdk: 'openai',
    stream: true,
    headers: { 'x-ratelimit-limit-requests': '-1', 'x-ratelimit-remaining-requests': 'abc', 'x-ratelimit-reset-requests': 'never', 'x-request-id': '' },
    pieces: [text('h'), 'data: [DONE]\n\n'],
  },
  'json-choices-null': { sdk: 'openai', stream: false, pieces: ['{"id":"x","object":"chat.completion","choices":null,"usage":"none"}'] },
  'json-array': { sdk: 'openai', stream: false, pieces: ['[]'] },
  'json-empty-body': { sdk: 'openai', stream: false, pieces: [] },
  'json-truncated': { sdk: 'openai', stream: false, pieces: ['{"id":"x","choices":[{"message":'], destroy: true },
  'html-200': { sdk: 'openai', stream: false, headers: { 'content-type': 'text/html' }, pieces: ['<html><body>gateway says hi</body></html>'] },
  'sse-for-non-stream': { sdk: 'openai', stream: false, headers: { 'content-type': 'text/event-stream' }, pieces: [text('s'), 'data: [DONE]\n\n'] },
  '429-odd-headers': {
    sdk: 'openai',
    stream: true,
    status: 429,
    headers: { 'retry-after-ms': '5', 'retry-after': 'soon', 'x-ratelimit-remaining-requests': 'NaN' },
    pieces: ['{"error":{"message":"slow down","type":"rate_limit"}}'],
  },
  '500-non-json': { sdk: 'openai', stream: false, status: 500, headers: { 'content-type': 'text/plain', 'retry-after-ms': '5' }, pieces: ['oops'] },
  '400-error-wrong-types': { sdk: 'openai', stream: true, status: 400, pieces: ['{"error":{"message":42,"type":null,"code":{"nested":true}}}'] },
  // Anthropic: every event needs its `event:` line; message_start carries the message.
  'anth-no-event-lines': { sdk: 'anthropic', stream: true, pieces: ['data: {"type":"message_start","message":{"id":"m","usage":{}}}\n\n', 'data: {"type":"message_stop"}\n\n'] },
  'anth-wrong-types': {
    sdk: 'anthropic',
    stream: true,
    pieces: [
      anthropic('message_start', { message: null }),
      anthropic('content_block_start', { index: 'zero', content_block: 'text' }),
      anthropic('content_block_delta', { index: 0, delta: 'not an object' }),
      anthropic('message_delta', { delta: { stop_reason: 42 }, usage: { output_tokens: 'lots' } }),
      anthropic('message_stop', {}),
    ],
  },
  'anth-error-string': { sdk: 'anthropic', stream: true, pieces: [anthropic('message_start', { message: { id: 'm', usage: { input_tokens: 1 } } }), 'event: error\ndata: {"type":"error","error":"boom"}\n\n'] },
  'anth-cut-mid-event': { sdk: 'anthropic', stream: true, pieces: [anthropic('message_start', { message: { id: 'm', usage: { input_tokens: 1 } } }), 'event: content_block_delta\ndata: {"type":"cont'], destroy: true },
  'anth-json-wrong-types': { sdk: 'anthropic', stream: false, pieces: ['{"id":7,"type":"message","content":"text","usage":{"input_tokens":"x","cache_read_input_tokens":null},"stop_reason":[]}'] },
  // Gemini: single-line `data:` events ending in \r\n\r\n, no [DONE].
  'gem-leftover-bytes': { sdk: 'gemini', stream: true, pieces: [gemini({ candidates: [{ content: { role: 'model', parts: [{ text: 'a' }] } }] }), 'data: {"candidates":['] },
  'gem-wrong-types': {
    sdk: 'gemini',
    stream: true,
    pieces: [gemini({ candidates: 'x', usageMetadata: { promptTokenCount: 'a', candidatesTokenCount: -3 } }), gemini({ candidates: [{ content: { parts: null }, finishReason: 7 }] })],
  },
  'gem-error-string': { sdk: 'gemini', stream: true, pieces: [gemini({ candidates: [{ content: { parts: [{ text: 'x' }] } }] }), 'data: {"error":"boom"}\r\n\r\n'] },
  'gem-not-json': { sdk: 'gemini', stream: true, pieces: ['data: nope\r\n\r\n'] },
  'gem-json-empty-object': { sdk: 'gemini', stream: false, pieces: ['{}'] },
};

export interface OddProvider {
  /** `http://127.0.0.1:PORT` */
  url: string;
  close(): Promise<void>;
}

export async function startOddProvider(): Promise<OddProvider> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      const model = /\/models\/([^:/]+):/.exec(req.url ?? '')?.[1] ?? (JSON.parse(body) as { model: string }).model;
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
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
