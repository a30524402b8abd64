// Rows as one JSONEachRow body. Rows already encoded (ingest's) are copied as bytes; others are
// encoded a slice at a time: JSON.stringify of 50 000 spans takes hundreds of milliseconds, which
// must not hold the event loop (health checks, other requests); the parts are joined in slices too.
import { setImmediate } from 'node:timers/promises';
import type { SpanRow } from './otel-traces.ts';
import { joinInSlices } from './slices.ts';

/** Rows encoded between two yields to the event loop (about 5–10 ms of work). */
const ROWS_PER_SLICE = 1000;
/** Encoded rows looked at between two yields. */
const LINES_PER_SLICE = 5000;

export async function encodeJsonEachRow(rows: readonly SpanRow[]): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let text = '';
  let encoded = 0;
  // Lines decoded from one request lie end to end in one buffer: each such run is copied at once.
  let run: Uint8Array | undefined;
  let runEnd = 0;
  const endRun = () => {
    if (run !== undefined) parts.push(new Uint8Array(run.buffer, run.byteOffset, runEnd - run.byteOffset));
    run = undefined;
  };
  const endText = () => {
    if (text !== '') parts.push(Buffer.from(text));
    text = '';
  };
  let looked = 0;
  for (const row of rows) {
    if (++looked % LINES_PER_SLICE === 0) await setImmediate();
    if ('line' in row) {
      endText();
      const line = row.line;
      if (run === undefined || line.buffer !== run.buffer || line.byteOffset !== runEnd) {
        endRun();
        run = line;
      }
      runEnd = line.byteOffset + line.byteLength;
      continue;
    }
    endRun();
    text += `${JSON.stringify(row)}\n`;
    if (++encoded % ROWS_PER_SLICE === 0) {
      endText();
      await setImmediate();
    }
  }
  endRun();
  endText();
  return joinInSlices(parts);
}
