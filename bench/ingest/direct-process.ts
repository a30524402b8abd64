// The limit: the same rows inserted straight into ClickHouse (its own chDB directory, its own
// process) with storage.insertSpans from a prepared buffer — no HTTP, no protobuf, no queue, and
// the rows already encoded as JSONEachRow lines in one buffer (as ingest's decode workers hand them over), so
// the limit is what storage itself takes. Every insert is of new spans, as ingest's are: the
// buffer again with other trace ids and start times moved on with the clock. (The same spans again
// would be cheaper: storage leaves call spans already stored out, and the views see no calls.)
import { rm } from 'node:fs/promises';
import { decodeProtobufRequest, otlpToRows } from '@llm-prism/ingest';
import { encodedRows, encodeTraceRows, openStorage, type EncodedTraceRow } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { serveParent } from '../lib/child.ts';
import { BATCH_SPANS, spanFactory } from './spans.ts';

export interface DirectRound {
  rows: number;
  /** Time spent inserting. */
  seconds: number;
  insertMs: number[];
  /** CPU time of this process during the round (making the new spans included). */
  cpuMicros: number;
}

/** The largest insert asked for; a round may insert a prefix of the buffer (`rows`). */
const rowsPerInsert = Number(process.argv[2]);
const factory = spanFactory();
const prepared: EncodedTraceRow[] = [];
while (prepared.length < rowsPerInsert) {
  const body = ProtobufTraceSerializer.serializeRequest(factory.batch());
  if (body === undefined) throw new Error('serializer returned nothing');
  prepared.push(...encodedRows(encodeTraceRows(otlpToRows(decodeProtobufRequest(body)).rows)));
}
const buffer = prepared.slice(0, rowsPerInsert);
if (buffer.length !== rowsPerInsert || prepared.length % BATCH_SPANS !== 0) throw new Error('short buffer');
const preparedAt = Date.now();

// A line starts `{"Timestamp":"YYYY-MM-DD HH:MM:SS.nnnnnnnnn","TraceId":"<32 hex>"` (encodeTraceRows).
const TS_AT = '{"Timestamp":"'.length;
const ID_AT = TS_AT + 'YYYY-MM-DD HH:MM:SS.nnnnnnnnn'.length + '","TraceId":"'.length;
const text = (line: Uint8Array, at: number, length: number) => Buffer.from(line.buffer, line.byteOffset + at, length).toString('latin1');
for (const row of buffer) {
  if (text(row.line, TS_AT, row.Timestamp.length) !== row.Timestamp || text(row.line, ID_AT, 32) !== row.TraceId) {
    throw new Error(`unexpected line layout: ${text(row.line, 0, 100)}`);
  }
}

const MS_LENGTH = 'YYYY-MM-DD HH:MM:SS.mmm'.length;
/** Epoch ms of a row time 'YYYY-MM-DD HH:MM:SS.mmm…' (the digits after the milliseconds are kept apart). */
const epochMs = (timestamp: string) => Date.parse(`${timestamp.slice(0, MS_LENGTH).replace(' ', 'T')}Z`);
/**
 * How far the buffer's call spans' start times reach: each insert's are moved on by at least this
 * much from the one before, so that no insert's calls fall among an earlier one's (ingest's
 * inserts take batches in the order they were made, whose times move on with the clock).
 */
const calls = buffer.filter((r) => r.callSpan).map((r) => epochMs(r.Timestamp));
const CALL_SPREAD_MS = Math.max(...calls) - Math.min(...calls) + 1;
let lastShiftMs = -Infinity;

/**
 * `rows` as new spans, in one new buffer: trace ids prefixed with the insert's number, start times
 * moved on with the clock, as a sender's are: the calls stored per second of span time are then
 * what they are at the rate the rows go in, as ingest's are (bench/README.md), and so are the
 * reads an insert makes of the calls stored around its times (the duplicate view's window).
 */
function fresh(rows: EncodedTraceRow[], insert: number): EncodedTraceRow[] {
  const prefix = insert.toString(16).padStart(8, '0');
  const shiftMs = Math.max(Date.now() - preparedAt, lastShiftMs + CALL_SPREAD_MS);
  lastShiftMs = shiftMs;
  const bytes = Buffer.concat(rows.map((row) => row.line));
  let start = 0;
  return rows.map((row) => {
    const moved = new Date(epochMs(row.Timestamp) + shiftMs).toISOString().slice(0, MS_LENGTH).replace('T', ' ') + row.Timestamp.slice(MS_LENGTH);
    const line = bytes.subarray(start, (start += row.line.length));
    line.write(moved, TS_AT, 'latin1');
    line.write(prefix, ID_AT, 'latin1');
    return { ...row, Timestamp: moved, TraceId: prefix + row.TraceId.slice(8), line };
  });
}
let inserts = 0;

const dataDir = await tempDataDir('llm-prism-bench-direct-');
const storage = await openStorage({ dataDir });

serveParent(
  async (m) => {
    const rows = buffer.slice(0, Number(m.rows));
    const round: DirectRound = { rows: 0, seconds: 0, insertMs: [], cpuMicros: 0 };
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < Number(m.seconds) * 1000) {
      // Making the new spans is the load's work, not storage's: only the inserts are timed.
      const batch = fresh(rows, ++inserts);
      const t = performance.now();
      await storage.insertSpans(batch);
      round.insertMs.push(performance.now() - t);
      round.rows += rows.length;
    }
    round.seconds = round.insertMs.reduce((s, ms) => s + ms, 0) / 1000;
    const used = process.cpuUsage(cpu);
    round.cpuMicros = used.user + used.system;
    return round;
  },
  async () => {
    await storage.close();
    await rm(dataDir, { recursive: true, force: true });
  },
);
process.send?.({ ready: true });
