// A worker thread that builds one large OTLP/protobuf export request and POSTs it when told to, so
// a test can measure the server's main thread alone: building the body and undici's copies of it
// (~80 ms of CPU for 12 MB, plus the garbage collection of the spans' objects) stay on this thread.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeProtobufRequest } from './otlp-messages.ts';
import { jsonRequest, jsonSpan } from './requests.ts';

export interface BigRequestData {
  url: string;
  traceId: string;
  spans: number;
}
export type BigRequestReply = { ready: number } | { status: number };

const { url, traceId, spans } = workerData as BigRequestData;
const port = parentPort!;

/** A span like an LLM call's: 20 attributes. */
function callSpan() {
  const attributes = Array.from({ length: 20 }, (_, i) => ({
    key: `llm.attribute_${i}`,
    value: i % 2 === 0 ? { stringValue: `value ${i}` } : { intValue: String(1000 + i) },
  }));
  return jsonSpan({ traceId, name: 'chat gpt-4o', kind: 3, attributes });
}

const body = encodeProtobufRequest(jsonRequest(Array.from({ length: spans }, callSpan))) as Uint8Array<ArrayBuffer>;
port.postMessage({ ready: body.byteLength } satisfies BigRequestReply);
port.once('message', async () => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
  await response.arrayBuffer();
  port.postMessage({ status: response.status } satisfies BigRequestReply);
});
