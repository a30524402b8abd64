// A decode worker: request bodies in, rows out, already encoded as JSONEachRow lines in one buffer
// per message (encodeTraceRows), transferred, not copied. They go back in messages of
// ROWS_PER_CHUNK, so the main thread takes them in short turns between which it answers others.
// A plain protobuf request is transcoded straight to its lines (protobuf-lines.ts); any other is
// decoded to rows and encoded, with its rejections.
import { parentPort } from 'node:worker_threads';
import { encodeTraceRows, type EncodedRows } from '@llm-prism/storage/rows';
import { decodeRequest } from './decode.ts';
import type { DecodeJob, DecodeReply } from './decode-pool.ts';
import { MalformedPayloadError } from './otlp-codec.ts';
import { protobufToLines, ROWS_PER_CHUNK } from './protobuf-lines.ts';

const port = parentPort!;
port.on('message', ({ id, encoding, body }: DecodeJob) => {
  const reply = (message: DecodeReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const send = (rows: EncodedRows) => reply({ id, rows }, [rows.bytes.buffer]);
  const lines = encoding === 'protobuf' ? protobufToLines(body) : undefined;
  if (lines !== undefined) {
    for (const rows of lines) send(rows);
    return reply({ id, done: true, rejections: [] });
  }
  let result;
  try {
    result = decodeRequest(encoding, body);
  } catch (err) {
    if (err instanceof MalformedPayloadError) return reply({ id, malformed: err.message });
    return reply({ id, failed: (err as Error).message ?? String(err) });
  }
  for (let at = 0; at < result.rows.length; at += ROWS_PER_CHUNK) send(encodeTraceRows(result.rows.slice(at, at + ROWS_PER_CHUNK)));
  reply({ id, done: true, rejections: result.rejections });
});
