// The sending side: the official OTLP/protobuf exporter, `concurrency` exports of 512 fresh spans
// in flight for a given time. Latency is export() call → callback (the acknowledgement, which
// ingest gives only after the insert), including the exporter's own retries on 429/503.
// The round's span batches are made before it starts, as the limit's rows are made outside its
// timed inserts: inside the round the exporter only serializes and sends them, and its CPU time is
// that. A round that uses up the batches made for it makes more as it goes (counted in `madeInRound`).
// The batches made before carry the times they would have if made as the round sends them, spread
// over its seconds: made in one go, a round's spans all started within the ~2 s of making them, and
// storage's per-insert reads of the calls around an insert's times (the duplicate view's window,
// docs/clickhouse.md) met several times the calls a real sender at that rate produces.
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { serveParent } from '../lib/child.ts';
import { BATCH_SPANS, spanFactory } from './spans.ts';

export interface ExportRound {
  acked: number;
  failed: number;
  seconds: number;
  latenciesMs: number[];
  /** CPU time of this process during the round. */
  cpuMicros: number;
  /** Spans made before the round, and during it once those ran out. */
  premade: number;
  madeInRound: number;
}

// The exporter fails exports beyond its concurrencyLimit (default 30) at once, counting one whose
// callback has run until a moment later: twice the bench's exports in flight is never reached.
const exporter = new OTLPTraceExporter({ url: `${process.argv[2]}/v1/traces`, timeoutMillis: 60_000, concurrencyLimit: 2 * Number(process.argv[3]) });
const factory = spanFactory();

serveParent(
  async (m) => {
    if (m.op === 'big') {
      // One export of `batches` × 512 spans in a single request (the event-loop probe).
      const spans = Array.from({ length: Number(m.batches) }, () => factory.batch()).flat();
      const sent = performance.now();
      const code = await new Promise<ExportResultCode>((resolve) => exporter.export(spans, (r) => resolve(r.code)));
      return { spans: spans.length, ms: performance.now() - sent, ok: code === ExportResultCode.SUCCESS };
    }
    const seconds = Number(m.seconds);
    const count = Math.ceil(Number(m.spans) / BATCH_SPANS);
    const madeAt = Date.now();
    const premade = Array.from({ length: count }, (_, k) => factory.batch(madeAt + (k * seconds * 1000) / count));
    const round: ExportRound = { acked: 0, failed: 0, seconds: 0, latenciesMs: [], cpuMicros: 0, premade: premade.length * BATCH_SPANS, madeInRound: 0 };
    // Taken from the front and let go once sent: memory falls as the round goes on.
    let next = 0;
    const take = () => {
      if (next < premade.length) {
        const spans = premade[next] as ReadableSpan[];
        premade[next++] = [];
        return spans;
      }
      round.madeInRound += BATCH_SPANS;
      return factory.batch();
    };
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const loop = async () => {
      while (performance.now() - t0 < seconds * 1000) {
        const spans = take();
        const sent = performance.now();
        const code = await new Promise<ExportResultCode>((resolve) => exporter.export(spans, (r) => resolve(r.code)));
        round.latenciesMs.push(performance.now() - sent);
        if (code === ExportResultCode.SUCCESS) round.acked += BATCH_SPANS;
        else round.failed += BATCH_SPANS;
      }
    };
    await Promise.all(Array.from({ length: Number(m.concurrency) }, loop));
    round.seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    round.cpuMicros = used.user + used.system;
    return round;
  },
  () => exporter.shutdown(),
);
process.send?.({ ready: true });
