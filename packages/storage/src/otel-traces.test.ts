// Rows encoded together (what ingest's decode workers post): one buffer of their JSONEachRow lines,
// exact in UTF-8 whatever the text, and the fields ingest reads.
import { expect, test } from 'vitest';
import { encodedRows, encodeTraceRow, encodeTraceRows, type OtelTraceRow } from './otel-traces.ts';
import { otelTraceRow } from './testing.ts';

const ids = (n: number) => ({ Timestamp: `2026-11-23 09:00:0${n}.000000000`, TraceId: String(n).repeat(32), SpanId: String(n).repeat(16) });
const rows: OtelTraceRow[] = [
  otelTraceRow({ ...ids(1), SpanName: 'chat', SpanKind: 'Client', SpanAttributes: { 'gen_ai.operation.name': 'chat' } }),
  otelTraceRow({ ...ids(2), SpanName: 'café ☕ 😀', SpanAttributes: { 'prompt.text': 'naïve — “quoted” \n line' } }),
  otelTraceRow({ ...ids(3), SpanName: 'plain', ServiceName: 'other' }),
];
const text = (line: Uint8Array) => Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8');

test.each([
  ['ASCII only', [rows[0]!, rows[2]!]],
  ['with characters of 2 to 4 UTF-8 bytes', rows],
])('%s: each line is JSON.stringify of its row and a newline, in one buffer of its own', (_, batch) => {
  const encoded = encodeTraceRows(batch);
  expect(Buffer.from(encoded.bytes).toString('utf8')).toBe(batch.map((r) => `${JSON.stringify(r)}\n`).join(''));
  // Transferred whole to the main thread: nothing else may share its ArrayBuffer.
  expect(encoded.bytes.byteOffset).toBe(0);
  expect(encoded.bytes.buffer.byteLength).toBe(encoded.bytes.byteLength);
  const decoded = encodedRows(encoded);
  expect(decoded.map((r) => JSON.parse(text(r.line)))).toEqual(batch);
  expect(decoded.map((r) => [r.Timestamp, r.TraceId, r.SpanId, r.SpanName, r.ServiceName, r.callSpan])).toEqual(
    batch.map((r) => [r.Timestamp, r.TraceId, r.SpanId, r.SpanName, r.ServiceName, r.SpanKind === 'Client']),
  );
});

test('no rows: an empty buffer; one row alone is the same as in a batch', () => {
  expect(encodedRows(encodeTraceRows([]))).toEqual([]);
  expect(text(encodeTraceRow(rows[1]!).line)).toBe(`${JSON.stringify(rows[1])}\n`);
});
