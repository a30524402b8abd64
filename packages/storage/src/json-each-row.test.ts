// The body is the rows' lines in order, whichever way each row came: encoded lines end to end in one
// buffer (merged into one copy), encoded lines from elsewhere, rows still to encode; and it is
// copied in slices with the event loop free between them.
import { expect, test } from 'vitest';
import { encodeJsonEachRow } from './json-each-row.ts';
import { encodedRows, encodeTraceRow, encodeTraceRows, formatTimestamp, type OtelTraceRow, type SpanRow } from './otel-traces.ts';
import { otelTraceRow } from './testing.ts';

const row = (n: number, name = 'chat'): OtelTraceRow =>
  otelTraceRow({
    Timestamp: formatTimestamp(BigInt(Date.UTC(2026, 10, 23)) * 1_000_000n + BigInt(n) * 1_000_000n),
    TraceId: n.toString(16).padStart(32, '0'),
    SpanId: n.toString(16).padStart(16, '0'),
    SpanName: name,
  });

test('every row once, in order, whichever way it came', async () => {
  const first = Array.from({ length: 300 }, (_, n) => row(n));
  const rest = Array.from({ length: 2_500 }, (_, n) => row(1_000 + n));
  const fromOneBuffer = encodedRows(encodeTraceRows(first));
  const mixed: SpanRow[] = [...fromOneBuffer.slice(0, 150), row(500), ...fromOneBuffer.slice(151), encodeTraceRow(row(600)), ...rest];
  const expected = mixed.map((r) => ('line' in r ? Buffer.from(r.line).toString() : `${JSON.stringify(r)}\n`)).join('');
  expect((await encodeJsonEachRow(mixed)).toString()).toBe(expected);
});

test('a body of tens of MB is copied in slices: the event loop runs while it is built', async () => {
  // 40 MB in one buffer, as a large request's decoded lines arrive.
  const big = encodedRows(encodeTraceRows(Array.from({ length: 2_000 }, (_, n) => row(n, 'x'.repeat(20_000)))));
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 0);
  const body = await encodeJsonEachRow(big);
  clearInterval(ticker);
  expect(body.byteLength).toBe(big.reduce((sum, r) => sum + r.line.byteLength, 0));
  expect(body.subarray(-big.at(-1)!.line.byteLength).equals(Buffer.from(big.at(-1)!.line))).toBe(true);
  expect(ticks).toBeGreaterThan(3);
});
