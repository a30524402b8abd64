/**
 * AWS event streams (`application/vnd.amazon.eventstream`), the framing of Amazon Bedrock's
 * `InvokeModelWithResponseStream`, read as the SSE events they carry. A `chunk` message's payload
 * is `{"bytes":"<base64>"}`, the provider's own stream event (for Anthropic models, a Messages
 * event's JSON); an `exception` (or `error`) message is a failure mid-stream, handed on as the
 * provider's `error` event. Messages are length-prefixed: they are cut here as their bytes
 * arrive, and each whole message is decoded (headers, payload, checksums) by AWS's own codec,
 * loaded at the first such stream.
 */
import type { SseEvent } from './internal-types.ts';
import { requireCommonJs } from './commonjs.ts';

export const EVENT_STREAM_TYPE = /^application\/vnd\.amazon\.eventstream\b/i;

/** Prelude: total length (4 bytes), headers length (4), prelude CRC (4). */
const PRELUDE_BYTES = 12;
/** AWS caps a message's payload at 16 MiB and its headers at 128 KiB: a longer one is no event stream, and is never waited for. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 128 * 1024 + PRELUDE_BYTES + 4;

type Codec = import('@smithy/core/event-streams').EventStreamCodec;
let codec: Codec | undefined;

function awsCodec(): Codec {
  if (codec) return codec;
  const { EventStreamCodec } = requireCommonJs('@smithy/core/event-streams') as typeof import('@smithy/core/event-streams');
  const { toUtf8, fromUtf8 } = requireCommonJs('@smithy/core/serde') as typeof import('@smithy/core/serde');
  return (codec = new EventStreamCodec(toUtf8, fromUtf8));
}

export class EventStreamReader {
  #pending: Buffer = Buffer.alloc(0);

  /** The events of the messages these bytes complete (a malformed message throws: the stream is no longer read). */
  push(bytes: Buffer): SseEvent[] {
    let buffer = this.#pending.length === 0 ? bytes : Buffer.concat([this.#pending, bytes]);
    const events: SseEvent[] = [];
    while (buffer.length >= PRELUDE_BYTES) {
      const length = buffer.readUInt32BE(0);
      if (length < PRELUDE_BYTES + 4 || length > MAX_MESSAGE_BYTES) throw new Error(`AWS event stream: a message of ${length} bytes`);
      if (buffer.length < length) break;
      const event = eventOf(awsCodec().decode(buffer.subarray(0, length)));
      if (event) events.push(event);
      buffer = buffer.subarray(length);
    }
    this.#pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
    return events;
  }
}

type Message = ReturnType<Codec['decode']>;

function eventOf(message: Message): SseEvent | undefined {
  const header = (name: string): string | undefined => {
    const value = message.headers[name]?.value;
    return typeof value === 'string' ? value : undefined;
  };
  const payload = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString('utf8');
  const type = header(':message-type');
  if (type === 'event') {
    if (header(':event-type') !== 'chunk') return undefined;
    const bytes = (JSON.parse(payload) as { bytes?: unknown }).bytes;
    return typeof bytes === 'string' ? { event: undefined, data: Buffer.from(bytes, 'base64').toString('utf8') } : undefined;
  }
  if (type !== 'exception' && type !== 'error') return undefined;
  // A failure: `exception` names its type in a header and says why in its payload's `message`;
  // `error` carries both in headers.
  const errorType = type === 'exception' ? header(':exception-type') : header(':error-code');
  let reason = header(':error-message');
  if (reason === undefined) {
    try {
      const parsed = JSON.parse(payload) as { message?: unknown };
      reason = typeof parsed.message === 'string' ? parsed.message : undefined;
    } catch {
      reason = payload.slice(0, 200);
    }
  }
  return { event: 'error', data: JSON.stringify({ type: 'error', error: { type: errorType ?? type, message: reason ?? '' } }) };
}
