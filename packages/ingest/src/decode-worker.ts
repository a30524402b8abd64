// A decode worker: request bodies in, rows out, each already encoded as its JSONEachRow line (a
// string is one cheap object to pass and to keep; a row is dozens). They go back in messages of
// ROWS_PER_MESSAGE, so the main thread takes them in short turns between which it answers others.
import { parentPort } from 'node:worker_threads';
import { encodeTraceRow } from '@llm-prism/storage/rows';
import { decodeRequest } from './decode.ts';
import type { DecodeJob, DecodeReply } from './decode-pool.ts';
import { MalformedPayloadError } from './otlp-codec.ts';

const ROWS_PER_MESSAGE = 1000;

const port = parentPort!;
port.on('message', ({ id, encoding, body }: DecodeJob) => {
  const reply = (message: DecodeReply) => port.postMessage(message);
  let result;
  try {
    result = decodeRequest(encoding, body);
  } catch (err) {
    if (err instanceof MalformedPayloadError) return reply({ id, malformed: err.message });
    return reply({ id, failed: (err as Error).message ?? String(err) });
  }
  for (let at = 0; at < result.rows.length; at += ROWS_PER_MESSAGE) {
    reply({ id, rows: result.rows.slice(at, at + ROWS_PER_MESSAGE).map(encodeTraceRow) });
  }
  reply({ id, done: true, rejections: result.rejections });
});
