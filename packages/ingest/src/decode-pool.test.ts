// The decode workers: the same rows as decoding in place, malformed bodies named, and the bound on
// bytes being decoded (429 beyond it, one request always taken).
import { encodeTraceRow } from '@llm-prism/storage';
import { afterEach, expect, test } from 'vitest';
import { decodeRequest } from './decode.ts';
import { DecodePool } from './decode-pool.ts';
import { HttpError } from './http-error.ts';
import { encodeProtobufRequest } from '../test/otlp-messages.ts';
import { MalformedPayloadError } from './otlp-codec.ts';
import { jsonRequest, jsonSpan, randomTraceId } from '../test/requests.ts';

let pool: DecodePool | undefined;
afterEach(async () => {
  await pool?.close();
});

const body = (spans: number) => encodeProtobufRequest(jsonRequest(Array.from({ length: spans }, () => jsonSpan({ traceId: randomTraceId() }))));

test('hands back the rows decoding in place gives, encoded, in order, with the rejections', async () => {
  pool = new DecodePool({ workers: 2 });
  const request = encodeProtobufRequest(jsonRequest([...Array.from({ length: 2500 }, () => jsonSpan()), jsonSpan({ spanId: 'xyz' })]));
  const inPlace = decodeRequest('protobuf', request);
  const decoded = await pool.decode('protobuf', request);
  expect(decoded.rows).toHaveLength(2500);
  expect(decoded.rows).toEqual(inPlace.rows.map(encodeTraceRow));
  expect(decoded.rejections).toEqual(inPlace.rejections);
  expect(decoded.rejections).toHaveLength(1);
  expect(pool.decodingBytes).toBe(0);
});

test('a plain request (transcoded by the worker without the rows\' objects) gives the same rows; an owned body is moved to the worker, another copied', async () => {
  pool = new DecodePool({ workers: 1 });
  const request = body(1500);
  const inPlace = decodeRequest('protobuf', request).rows.map(encodeTraceRow);
  const copied = await pool.decode('protobuf', request);
  expect(copied.rows).toEqual(inPlace);
  expect(request.byteLength).toBeGreaterThan(0);
  const owned = await pool.decode('protobuf', request, true);
  expect(owned.rows).toEqual(inPlace);
  // Transferred: detached here.
  expect(request.byteLength).toBe(0);
});

test('a body that is not a request is a MalformedPayloadError naming the problem', async () => {
  pool = new DecodePool({ workers: 1 });
  await expect(pool.decode('json', Buffer.from('{"resourceSpans": ['))).rejects.toThrow(MalformedPayloadError);
  await expect(pool.decode('protobuf', Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]))).rejects.toThrow(/malformed protobuf ExportTraceServiceRequest: index out of range/);
  expect(pool.decodingBytes).toBe(0);
});

test('beyond maxDecodingBytes requests get 429 with Retry-After; one request is always taken', async () => {
  pool = new DecodePool({ workers: 1, maxDecodingBytes: 1000, retryAfterSeconds: 2 });
  const large = body(50);
  expect(large.byteLength).toBeGreaterThan(1000);
  const first = pool.decode('protobuf', large);
  expect(pool.decodingBytes).toBe(large.byteLength);
  const refused = await pool.decode('protobuf', body(1)).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(HttpError);
  expect(refused).toMatchObject({ status: 429, retryAfterSeconds: 2 });
  expect((await first).rows).toHaveLength(50);
  expect((await pool.decode('protobuf', large)).rows).toHaveLength(50);
});

test('large bodies leave the last eighth of the budget to small ones: a client flooding large bodies does not hold up another\'s batches', async () => {
  pool = new DecodePool({ workers: 1, maxDecodingBytes: 64_000 });
  const large = body(25); // over a 64th of the budget (1 000 bytes)
  const small = body(1);
  expect(large.byteLength).toBeGreaterThan(1000);
  expect(small.byteLength).toBeLessThanOrEqual(1000);
  // Handed over back to back, before any worker can answer: the bytes add up.
  const larges = Array.from({ length: 80 }, () => pool!.decode('protobuf', large).then(() => 'decoded', (err: unknown) => err));
  const decoding = pool.decodingBytes;
  const smallOne = pool.decode('protobuf', small);
  const outcomes = await Promise.all(larges);
  const taken = outcomes.filter((o) => o === 'decoded').length;
  // The large ones stopped at seven eighths (56 000 bytes); the small body was still taken.
  expect(decoding).toBe(taken * large.byteLength);
  expect(decoding).toBeLessThanOrEqual(56_000);
  expect(decoding + large.byteLength).toBeGreaterThan(56_000);
  const refused = outcomes.find((o) => o !== 'decoded');
  expect(refused).toMatchObject({ status: 429 });
  expect((refused as HttpError).message).toMatch(/limit 56000 for bodies over 1000 bytes/);
  expect((await smallOne).rows).toHaveLength(1);
});

test('a worker that dies (out of heap) fails only its request and is replaced', async () => {
  pool = new DecodePool({ workers: 1, workerHeapMb: 16 });
  const huge = Buffer.from(JSON.stringify(jsonRequest(Array.from({ length: 60_000 }, () => jsonSpan()))));
  await expect(pool.decode('json', huge)).rejects.toThrow(/decode worker stopped/);
  expect(pool.decodingBytes).toBe(0);
  expect((await pool.decode('protobuf', body(10))).rows).toHaveLength(10);
});

test('close() fails the requests being decoded with 503 and refuses new ones', async () => {
  pool = new DecodePool({ workers: 1 });
  const pending = pool.decode('protobuf', body(2000)).catch((err: unknown) => err);
  await pool.close();
  expect(await pending).toMatchObject({ status: 503 });
  await expect(pool.decode('protobuf', body(1))).rejects.toMatchObject({ status: 503 });
});
