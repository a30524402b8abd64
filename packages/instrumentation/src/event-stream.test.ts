import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { EventStreamReader } from './event-stream.ts';

// Messages framed by AWS's own codec, as Bedrock sends them.
const require = createRequire(import.meta.url);
const { EventStreamCodec } = require('@smithy/core/event-streams') as typeof import('@smithy/core/event-streams');
const { toUtf8, fromUtf8 } = require('@smithy/core/serde') as typeof import('@smithy/core/serde');
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const header = (value: string) => ({ type: 'string' as const, value });
const chunk = (event: object) =>
  codec.encode({
    headers: { ':message-type': header('event'), ':event-type': header('chunk'), ':content-type': header('application/json') },
    body: Buffer.from(JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64') })),
  });
const exception = codec.encode({
  headers: { ':message-type': header('exception'), ':exception-type': header('throttlingException') },
  body: Buffer.from(JSON.stringify({ message: 'Too many tokens' })),
});
const start = { type: 'message_start', message: { id: 'msg_1' } };
const delta = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'tok' } };
const stream = Buffer.concat([chunk(start), chunk(delta), exception]);
const expected = [
  { event: undefined, data: JSON.stringify(start) },
  { event: undefined, data: JSON.stringify(delta) },
  { event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'throttlingException', message: 'Too many tokens' } }) },
];

describe('EventStreamReader', () => {
  it('gives each message’s event once its last byte is in, however the bytes are cut', () => {
    for (const size of [1, 7, 64, stream.length]) {
      const reader = new EventStreamReader();
      const events = [];
      for (let at = 0; at < stream.length; at += size) events.push(...reader.push(stream.subarray(at, at + size)));
      expect(events, `pieces of ${size} bytes`).toEqual(expected);
    }
  });

  it('holds a message until it is whole', () => {
    const reader = new EventStreamReader();
    const first = chunk(start);
    expect(reader.push(Buffer.from(first.subarray(0, first.length - 1)))).toEqual([]);
    expect(reader.push(Buffer.from(first.subarray(first.length - 1)))).toEqual([expected[0]]);
  });

  it('throws on bytes that are no event stream (SSE, whose first bytes read as a length no message has; a bad checksum)', () => {
    expect(() => new EventStreamReader().push(Buffer.from('data: {"type":"ping"}\n\n'))).toThrow();
    const corrupt = Buffer.from(chunk(delta));
    corrupt[corrupt.length - 6]! ^= 0xff;
    expect(() => new EventStreamReader().push(corrupt)).toThrow();
  });
});
