import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { readBody } from './body.ts';
import { HttpError } from './http-error.ts';

/** A web stream over `source` that counts the bytes pulled from it. */
function counted(source: Readable): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const web = Readable.toWeb(source) as ReadableStream<Uint8Array>;
  const reader = web.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      pulled += value.length;
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream, pulled: () => pulled };
}

describe('readBody', () => {
  test('inflates gzip under the caps', async () => {
    const text = 'otlp '.repeat(1000);
    const body = Readable.toWeb(Readable.from([gzipSync(text)])) as ReadableStream<Uint8Array>;
    const out = await readBody(body, undefined, true, { maxBodyBytes: 1 << 20, maxDecodedBytes: 1 << 20 });
    expect(out.toString()).toBe(text);
  });

  test('stops a decompression bomb as soon as its output passes the cap', async () => {
    // 1 GiB of zeros in about 1 MiB: 64 concatenated gzip members of 16 MiB each, which gunzip
    // reads as one stream. The cap is 1 MiB of output.
    const member = gzipSync(new Uint8Array(16 << 20), { level: 9 });
    const compressed = Array.from({ length: 64 }, () => member);
    const total = member.length * 64;
    const { stream, pulled } = counted(Readable.from(compressed));

    const error = await readBody(stream, undefined, true, { maxBodyBytes: 1 << 30, maxDecodedBytes: 1 << 20 }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(413);
    expect((error as HttpError).message).toBe('decompressed request body exceeds the limit of 1048576 bytes');
    // 1 MiB of output needs 1/1024 of the input; stream buffers read ahead a few hundred KiB.
    expect(pulled()).toBeLessThan(total / 2);
  });

  test('reads the server\'s Node stream as it is, under the same caps', async () => {
    const parts = [Buffer.from('otlp '), Buffer.from('body')];
    expect((await readBody(Readable.from(parts), undefined, false, { maxBodyBytes: 9, maxDecodedBytes: 9 })).toString()).toBe('otlp body');
    const error = await readBody(Readable.from(parts), undefined, false, { maxBodyBytes: 8, maxDecodedBytes: 8 }).catch((e: unknown) => e);
    expect((error as HttpError).status).toBe(413);
  });

  test('a body over 1 MB comes back whole, byte for byte, whatever its Content-Length said', async () => {
    const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 << 10, i));
    const all = Buffer.concat(parts);
    const limits = { maxBodyBytes: 8 << 20, maxDecodedBytes: 8 << 20 };
    expect((await readBody(Readable.from(parts), String(all.length), false, limits)).equals(all)).toBe(true);
    expect((await readBody(Readable.from(parts), String(all.length + 100), false, limits)).equals(all)).toBe(true);
    expect((await readBody(Readable.from(parts), String(all.length - 100), false, limits)).equals(all)).toBe(true);
  });

  test('rejects a declared Content-Length over the limit before reading', async () => {
    const error = await readBody(null, '2048', false, { maxBodyBytes: 1024, maxDecodedBytes: 4096 }).catch((e: unknown) => e);
    expect((error as HttpError).status).toBe(413);
    expect((error as HttpError).message).toBe('request body of 2048 bytes exceeds the limit of 1024 bytes');
  });
});
