// Request bodies read under two caps: bytes on the wire and bytes after gunzip. Gunzip streams,
// so a decompression bomb is stopped as soon as its output passes the cap.
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { HttpError } from './http-error.ts';

export interface BodyLimits {
  /** Largest body accepted as sent. */
  maxBodyBytes: number;
  /** Largest body accepted after decompression. */
  maxDecodedBytes: number;
}

export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | undefined,
  gzip: boolean,
  limits: BodyLimits,
): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > limits.maxBodyBytes) {
    throw new HttpError(413, `request body of ${contentLength} bytes exceeds the limit of ${limits.maxBodyBytes} bytes`);
  }
  if (!body) return Buffer.alloc(0);
  let sent = 0;
  const wireCap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      if (sent > limits.maxBodyBytes) {
        callback(new HttpError(413, `request body exceeds the limit of ${limits.maxBodyBytes} bytes`));
      } else callback(null, chunk);
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
    if (gzip) await pipeline(Readable.fromWeb(body), wireCap, createGunzip(), collect);
    else await pipeline(Readable.fromWeb(body), wireCap, collect);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code?.startsWith('Z_')) throw new HttpError(400, `malformed gzip body: ${(err as Error).message}`);
    throw err;
  }
  return Buffer.concat(chunks);
}
