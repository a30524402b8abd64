// POST with node:http on a fresh connection. A server that refuses a body early answers while the
// client may still be writing; the client here stops writing once the answer is in, and a body
// declared by Content-Length can be held back until the server has answered the headers alone
// (how a client with `Expect: 100-continue` behaves towards a server that refuses at once).
import { request } from 'node:http';
import { decodeExportResponse, decodeStatus } from '../../packages/ingest/test/otlp-messages.ts';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface PostOptions {
  /** Send headers only and wait this long for an answer before sending the body. */
  holdBodyMs?: number;
  timeoutMs?: number;
}

/** `body` as one buffer (sent with Content-Length) or as chunks (chunked, no Content-Length). */
export function post(url: string, headers: Record<string, string>, body: Uint8Array | Uint8Array[], options: PostOptions = {}): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    let answered = false;
    let onAnswer = () => {};
    const req = request(url, { method: 'POST', headers, timeout: timeoutMs, agent: false }, (res) => {
      answered = true;
      onAnswer();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // A write error after the answer arrived is the early refusal itself, not a failure.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (!Array.isArray(body)) req.setHeader('content-length', body.length);
    void (async () => {
      if (options.holdBodyMs) {
        req.flushHeaders();
        await new Promise<void>((done) => {
          const timer = setTimeout(done, options.holdBodyMs);
          onAnswer = () => {
            clearTimeout(timer);
            done();
          };
        });
      }
      // Piece by piece, yielding between pieces so that an early answer stops the writing.
      const pieces = Array.isArray(body) ? body : Array.from({ length: Math.ceil(body.length / 65_536) }, (_, i) => body.subarray(i * 65_536, (i + 1) * 65_536));
      for (const piece of pieces) {
        if (answered || req.destroyed) return;
        await new Promise<void>((done) => req.write(piece, () => setImmediate(done)));
      }
      if (!answered && !req.destroyed) req.end();
    })();
  });
}

/** The message of an error answer, or the partial_success message of a 200 (protobuf or JSON). */
export function otlpMessage(res: Answer): { message: string; rejected: number } {
  const { body } = res;
  const protobufAnswer = res.headers['content-type'] === 'application/x-protobuf';
  if (res.status !== 200) {
    const status = protobufAnswer ? decodeStatus(body) : (JSON.parse(body.toString('utf8')) as { message: string });
    return { message: status.message, rejected: 0 };
  }
  const answer = protobufAnswer
    ? decodeExportResponse(body)
    : (JSON.parse(body.toString('utf8')) as ReturnType<typeof decodeExportResponse>);
  return { message: answer.partialSuccess?.errorMessage ?? '', rejected: Number(answer.partialSuccess?.rejectedSpans ?? 0) };
}
