// The limit: the same rows inserted straight into ClickHouse (its own chDB directory, its own
// process) with storage.insertSpans from a prepared buffer — no HTTP, no protobuf, no queue, and
// the rows already encoded as JSONEachRow lines (as ingest's decode workers hand them over), so
// the limit is what storage itself takes.
import { rm } from 'node:fs/promises';
import { decodeProtobufRequest, otlpToRows } from '@llm-prism/ingest';
import { encodeTraceRow, openStorage, type EncodedTraceRow } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { serveParent } from '../lib/child.ts';
import { BATCH_SPANS, spanFactory } from './spans.ts';

export interface DirectRound {
  rows: number;
  seconds: number;
  insertMs: number[];
}

/** The largest insert asked for; a round may insert a prefix of the buffer (`rows`). */
const rowsPerInsert = Number(process.argv[2]);
const factory = spanFactory();
const prepared: EncodedTraceRow[] = [];
while (prepared.length < rowsPerInsert) {
  const body = ProtobufTraceSerializer.serializeRequest(factory.batch());
  if (body === undefined) throw new Error('serializer returned nothing');
  prepared.push(...otlpToRows(decodeProtobufRequest(body)).rows.map(encodeTraceRow));
}
const buffer = prepared.slice(0, rowsPerInsert);
if (buffer.length !== rowsPerInsert || prepared.length % BATCH_SPANS !== 0) throw new Error('short buffer');

const dataDir = await tempDataDir('llm-prism-bench-direct-');
const storage = await openStorage({ dataDir });

serveParent(
  async (m) => {
    const rows = buffer.slice(0, Number(m.rows));
    const round: DirectRound = { rows: 0, seconds: 0, insertMs: [] };
    const t0 = performance.now();
    while (performance.now() - t0 < Number(m.seconds) * 1000) {
      const t = performance.now();
      await storage.insertSpans(rows);
      round.insertMs.push(performance.now() - t);
      round.rows += rows.length;
    }
    round.seconds = (performance.now() - t0) / 1000;
    return round;
  },
  async () => {
    await storage.close();
    await rm(dataDir, { recursive: true, force: true });
  },
);
process.send?.({ ready: true });
