// Rows as one JSONEachRow body. Rows already encoded (ingest's) are copied as bytes; others are
// encoded a slice at a time: JSON.stringify of 50 000 spans takes hundreds of milliseconds, which
// must not hold the event loop (health checks, other requests).
import { setImmediate } from 'node:timers/promises';
import type { SpanRow } from './otel-traces.ts';

/** Rows encoded between two yields to the event loop (about 5–10 ms of work). */
const ROWS_PER_SLICE = 1000;

export async function encodeJsonEachRow(rows: readonly SpanRow[]): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let text = '';
  let encoded = 0;
  for (const row of rows) {
    if ('line' in row) {
      if (text !== '') parts.push(Buffer.from(text));
      text = '';
      parts.push(row.line);
      continue;
    }
    text += `${JSON.stringify(row)}\n`;
    if (++encoded % ROWS_PER_SLICE === 0) {
      parts.push(Buffer.from(text));
      text = '';
      await setImmediate();
    }
  }
  if (text !== '') parts.push(Buffer.from(text));
  return Buffer.concat(parts);
}
