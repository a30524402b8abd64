// Rows as one JSONEachRow body, encoded a slice at a time: JSON.stringify of 50 000 spans takes
// hundreds of milliseconds, which must not hold the event loop (health checks, other requests).
import { setImmediate } from 'node:timers/promises';
import type { SpanRow } from './otel-traces.ts';

/** Rows encoded between two yields to the event loop (about 5–10 ms of work). */
const ROWS_PER_SLICE = 1000;

export async function encodeJsonEachRow(rows: readonly SpanRow[]): Promise<Buffer> {
  const slices: Buffer[] = [];
  for (let at = 0; at < rows.length; at += ROWS_PER_SLICE) {
    if (at > 0) await setImmediate();
    let text = '';
    for (let i = at; i < Math.min(at + ROWS_PER_SLICE, rows.length); i++) {
      const row = rows[i] as SpanRow;
      text += `${'line' in row ? row.line : JSON.stringify(row)}\n`;
    }
    slices.push(Buffer.from(text));
  }
  return slices.length === 1 ? (slices[0] as Buffer) : Buffer.concat(slices);
}
