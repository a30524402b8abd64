// A decode worker: request bodies in, rows out, already encoded as JSONEachRow lines in one buffer
// per message (encodeTraceRows), transferred, not copied. They go back in messages of
// ROWS_PER_MESSAGE, so the main thread takes them in short turns between which it answers others.
import { parentPort } from 'node:worker_threads';
import { encodeTraceRows } from '@llm-prism/storage/rows';
import { decodeRequest } from './decode.ts';
import type { DecodeJob, DecodeReply } from './decode-pool.ts';
import { MalformedPayloadError } from './otlp-codec.ts';

const ROWS_PER_MESSAGE = 1000;

const port = parentPort!;
port.on('message', ({ id, encoding, body }: DecodeJob) => {
  const reply = (message: DecodeReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  let result;
  try {
    result = decodeRequest(encoding, body);
  } catch (err) {
    if (err instanceof MalformedPayloadError) return reply({ id, malformed: err.message });
    return reply({ id, failed: (err as Error).message ?? String(err) });
  }
  for (let at = 0; at < result.rows.length; at += ROWS_PER_MESSAGE) {
    const rows = encodeTraceRows(result.rows.slice(at, at + ROWS_PER_MESSAGE));
    reply({ id, rows }, [rows.bytes.buffer]);
  }
  reply({ id, done: true, rejections: result.rejections });
});
