// Request bodies read under two caps: bytes on the wire and bytes after gunzip. Gunzip streams,
// so a decompression bomb is stopped as soon as its output passes the cap.
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { joinInSlices } from '@llm-prism/storage/rows';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HttpError } from './http-error.ts';

export interface BodyLimits {
  /** Largest body accepted as sent. */
  maxBodyBytes: number;
  /** Largest body accepted after decompression. */
  maxDecodedBytes: number;
}

/**
 * An oversized body is still read to its end (and thrown away) up to this multiple of the cap
 * before answering 413: closing the connection while the client is still sending makes it see a
 * connection reset instead of the 413, and exporters retry resets. Beyond it, the connection is cut.
 */
const DRAIN_FACTOR = 4;

/**
 * `body`: the request's Node stream where the server gives it (@hono/node-server's `incoming`:
 * no web stream to adapt back, chunk by chunk), else its web stream.
 */
export async function readBody(
  body: Readable | ReadableStream<Uint8Array> | null,
  contentLength: string | undefined,
  gzip: boolean,
  limits: BodyLimits,
): Promise<Buffer> {
  const drainLimit = DRAIN_FACTOR * limits.maxBodyBytes;
  if (contentLength !== undefined && Number(contentLength) > limits.maxBodyBytes) {
    const tooLarge = new HttpError(413, `request body of ${contentLength} bytes exceeds the limit of ${limits.maxBodyBytes} bytes`);
    try {
      if (body && Number(contentLength) <= drainLimit) for await (const _ of nodeStream(body));
    } catch (err) {
      throw clientClosed(err) ?? err;
    }
    throw tooLarge;
  }
  if (!body) return Buffer.alloc(0);
  const source = nodeStream(body);
  let sent = 0;
  let tooLarge: HttpError | undefined;
  const wireCap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      if (sent <= limits.maxBodyBytes) return callback(null, chunk);
      tooLarge ??= new HttpError(413, `request body exceeds the limit of ${limits.maxBodyBytes} bytes`);
      // Keep reading (and dropping) so the client can finish sending and read the answer.
      callback(sent > drainLimit ? tooLarge : null);
    },
  });
  const chunks: Buffer[] = [];
  let decoded = 0;
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      decoded += chunk.length;
      if (decoded > limits.maxDecodedBytes) {
        throw new HttpError(413, `decompressed request body exceeds the limit of ${limits.maxDecodedBytes} bytes`);
      }
      chunks.push(chunk);
    }
  };
  try {
    if (gzip) await pipeline(source, wireCap, createGunzip(), collect);
    else await pipeline(source, wireCap, collect);
  } catch (err) {
    if (tooLarge) throw tooLarge;
    if (err instanceof HttpError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code?.startsWith('Z_')) throw new HttpError(400, `malformed gzip body: ${(err as Error).message}`);
    throw clientClosed(err) ?? err;
  }
  if (tooLarge) throw tooLarge;
  // Joined in slices: a 10 MB body copied at once held the event loop 30 ms.
  return joinInSlices(chunks);
}

/**
 * The client went away before its body was sent (an exporter's timeout fired mid-upload): 499, as
 * proxies count it, answered to nobody; not a failure of the service (it was a 500 and a stack trace).
 */
function clientClosed(err: unknown): HttpError | undefined {
  const { code, message } = err as NodeJS.ErrnoException;
  if (code !== 'ECONNRESET' && code !== 'ECONNABORTED' && message !== 'aborted') return undefined;
  return new HttpError(499 as ContentfulStatusCode, 'the client closed the connection before its request body was complete');
}

const nodeStream = (body: Readable | ReadableStream<Uint8Array>): Readable => (body instanceof Readable ? body : Readable.fromWeb(body));
