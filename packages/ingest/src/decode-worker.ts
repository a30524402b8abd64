// A decode worker: request bodies in, rows out, already encoded as JSONEachRow lines in one buffer
// per message (encodeTraceRows), transferred, not copied. They go back in messages of
// ROWS_PER_CHUNK, each after the main thread has taken the one before and asked for the next: sent
// all at once, they queued up and the main thread took them all in one turn (a 20 000-span
// request held it 50–100 ms).
// A plain protobuf request is transcoded straight to its lines (protobuf-lines.ts); any other is
// decoded to rows and encoded, with its rejections.
import { parentPort } from 'node:worker_threads';
import { encodeTraceRows, type EncodedRows } from '@llm-prism/storage/rows';
import { decodeRequest } from './decode.ts';
import type { DecodeJob, DecodeNext, DecodeReply } from './decode-pool.ts';
import type { Rejection } from './otlp-to-rows.ts';
import { MalformedPayloadError } from './otlp-codec.ts';
import { protobufToLines, ROWS_PER_CHUNK } from './protobuf-lines.ts';

const port = parentPort!;
/** Chunks not yet sent, per request: the next goes when the main thread asks for it. */
const unsent = new Map<number, { chunks: EncodedRows[]; rejections: Rejection[] }>();

const reply = (message: DecodeReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** The request's next chunk; with its last, the end of the request. */
function sendNext(id: number): void {
  const job = unsent.get(id);
  if (job === undefined) return;
  const rows = job.chunks.shift();
  if (rows !== undefined) reply({ id, rows }, [rows.bytes.buffer]);
  if (job.chunks.length > 0) return;
  unsent.delete(id);
  reply({ id, done: true, rejections: job.rejections });
}

port.on('message', (message: DecodeJob | DecodeNext) => {
  if ('next' in message) return sendNext(message.next);
  const { id, encoding, body } = message;
  const lines = encoding === 'protobuf' ? protobufToLines(body) : undefined;
  if (lines !== undefined) {
    unsent.set(id, { chunks: lines, rejections: [] });
    return sendNext(id);
  }
  let result;
  try {
    result = decodeRequest(encoding, body);
  } catch (err) {
    if (err instanceof MalformedPayloadError) return reply({ id, malformed: err.message });
    return reply({ id, failed: (err as Error).message ?? String(err) });
  }
  const chunks: EncodedRows[] = [];
  for (let at = 0; at < result.rows.length; at += ROWS_PER_CHUNK) chunks.push(encodeTraceRows(result.rows.slice(at, at + ROWS_PER_CHUNK)));
  unsent.set(id, { chunks, rejections: result.rejections });
  sendNext(id);
});
