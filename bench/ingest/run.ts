// Benchmark 2: sustained ingest throughput (official OTLP/protobuf exporter → startIngest on
// embedded chDB, acknowledged after storage) against the limit (the same rows inserted directly),
// in alternating rounds, with the ingest process's event-loop delay; then one large request
// (`--big-batches` × 512 spans) while /healthz is polled. The ingest service, the exporter and the
// direct inserter each run in their own process, all on this machine's two cores.
// Both sides make their load before the timed work, alike: the direct inserter its rows before each
// insert (not timed), the exporter each round's span batches before the round (enough for 1.25 ×
// the fastest limit round so far, at most --premade-spans): the round itself is the official
// exporter serializing and sending them, and ingest storing them.
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { spawnChild } from '../lib/child.ts';
import { writeResult } from '../lib/results.ts';
import { summarize } from '../lib/stats.ts';
import type { DirectRound } from './direct-process.ts';
import type { ExportRound } from './exporter-process.ts';
import { BATCH_SPANS } from './spans.ts';

const { values: args } = parseArgs({
  options: {
    // Many short rounds, each ingest round next to a limit round: the load of a shared machine
    // drifts over minutes, and the ratio is taken per pair of neighbouring rounds.
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '8' },
    // Exports in flight. Ingest can insert only what is in flight (it acknowledges after storing),
    // and while one insert runs the requests it will acknowledge are not being sent again: about
    // half of them make each insert. 40 × 512 spans let an insert reach the limit's 10 240 rows.
    // (Fewer cap every insert below it: 20 in flight make ~5 000-row inserts, 4 make 1 000.)
    concurrency: { type: 'string', default: '40' },
    'direct-rows': { type: 'string', default: '10240' },
    'big-batches': { type: 'string', default: '40' },
    // Spans the exporter makes before a round at most (about 600 bytes each while they wait).
    'premade-spans': { type: 'string', default: '480000' },
  },
});
const here = (file: string) => new URL(file, import.meta.url).pathname;
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);

interface IngestStats {
  rssMaxBytes: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** The most main-thread CPU time between two ticks of a 5 ms timer: how long its own work held the loop. */
  loopBusyMaxMs: number;
  rssBytes: number;
  stored: number;
  insertedRows: number;
  inserts: number;
  /** Seconds the group commit's inserts took, summed. */
  insertSeconds: number;
  requestsByStatus: Record<string, number>;
  /** CPU time of all the ingest process's threads so far, and of its main thread. */
  cpuMicros: number;
  mainThreadCpuMicros: number;
  /** Of the decode worker threads (undefined where /proc is not there). */
  decodeCpuMicros?: number;
}
type IngestRound = ExportRound & { spansPerSecond: number; rssMaxBytes: number; rowsPerInsert: number; insertMs: number; insertingShare: number; loopDelayMaxMs: number; loopDelayP99Ms: number; loopBusyMaxMs: number; serverCpuMicros: number; mainThreadCpuMicros: number; decodeCpuMicros?: number };
type DirectResult = DirectRound & { rowsPerInsert: number; rowsPerSecond: number };

const maxRows = Number(args['direct-rows']);
/** 1-minute load average before the run's processes start: how much of the cores other work held. */
const loadBefore = loadavg()[0] as number;
const server = spawnChild(here('./server-process.ts'));
const { url } = await server.next<{ url: string }>();
const exporter = spawnChild(here('./exporter-process.ts'), [url, String(concurrency)]);
const direct = spawnChild(here('./direct-process.ts'), [String(maxRows)]);
try {
  await exporter.next();
  await direct.next();
  // Warm-up of both paths, not measured (its spans are counted in the stored total).
  const warmDirect = await direct.ask<DirectRound>({ seconds: 3, rows: maxRows });
  /** The fastest limit round so far (rows/s): what the exporter makes a round's spans for. */
  let fastestLimit = warmDirect.rows / warmDirect.seconds;
  const roundSpans = (s: number) => Math.min(Number(args['premade-spans']), Math.ceil(1.25 * fastestLimit * s));
  let acked = (await exporter.ask<ExportRound>({ seconds: 3, concurrency, spans: roundSpans(3) })).acked;

  const ingestRounds: IngestRound[] = [];
  const limitRounds: DirectResult[] = [];
  const sameBatchRounds: DirectResult[] = [];
  let storedMismatch: string | null = null;
  /** Rows per insert the ingest's group commit reached in its last round: the direct insert repeats it. */
  let ingestBatch = concurrency * BATCH_SPANS;
  for (let r = 0; r < rounds; r++) {
    const ingestRound = async () => {
      const before = await server.ask<IngestStats>({ op: 'reset' });
      const e = await exporter.ask<ExportRound>({ seconds, concurrency, spans: roundSpans(seconds) });
      const stats = await server.ask<IngestStats>({ op: 'stats' });
      acked += e.acked;
      // Acknowledged means stored: otel_traces must hold every acknowledged span by now.
      if (stats.stored < acked) storedMismatch = `after round ${r + 1}: ${acked} spans acknowledged, ${stats.stored} stored`;
      const inserts = stats.inserts - before.inserts;
      const rowsPerInsert = (stats.insertedRows - before.insertedRows) / inserts;
      const insertSeconds = stats.insertSeconds - before.insertSeconds;
      // Whether the round was bound by inserts (one runs at a time) or waited between them.
      const insertMs = (insertSeconds * 1000) / inserts;
      const insertingShare = insertSeconds / e.seconds;
      const serverCpuMicros = stats.cpuMicros - before.cpuMicros;
      const mainThreadCpuMicros = stats.mainThreadCpuMicros - before.mainThreadCpuMicros;
      const decodeCpuMicros = stats.decodeCpuMicros === undefined || before.decodeCpuMicros === undefined ? undefined : stats.decodeCpuMicros - before.decodeCpuMicros;
      // (The direct inserter's buffer holds the limit's rows: larger group commits are compared with it.)
      ingestBatch = Math.min(maxRows, Math.max(BATCH_SPANS, Math.round(rowsPerInsert / BATCH_SPANS) * BATCH_SPANS));
      ingestRounds.push({ ...e, spansPerSecond: e.acked / e.seconds, rssMaxBytes: stats.rssMaxBytes, rowsPerInsert, insertMs, insertingShare, loopDelayMaxMs: stats.loopDelayMaxMs, loopDelayP99Ms: stats.loopDelayP99Ms, loopBusyMaxMs: stats.loopBusyMaxMs, serverCpuMicros, mainThreadCpuMicros, decodeCpuMicros });
      console.log(
        `  ingest round ${r + 1}: ${(e.acked / e.seconds).toFixed(0)} spans/s, ${rowsPerInsert.toFixed(0)} rows per insert of ${insertMs.toFixed(0)} ms, inserting ${(insertingShare * 100).toFixed(0)} % of the round, CPU ${(serverCpuMicros / e.acked).toFixed(0)} (main thread ${(mainThreadCpuMicros / e.acked).toFixed(0)}${decodeCpuMicros === undefined ? '' : `, decode workers ${(decodeCpuMicros / e.acked).toFixed(0)}`}) + ${(e.cpuMicros / e.acked).toFixed(0)} µs per span (ingest + exporter), ${e.failed} failed, ${e.madeInRound} of ${e.acked + e.failed} spans made in the round, event loop delay max ${stats.loopDelayMaxMs.toFixed(0)} ms, held by own work max ${stats.loopBusyMaxMs.toFixed(0)} ms`,
      );
    };
    const directRound = async (rows: number, into: DirectResult[]) => {
      const d = await direct.ask<DirectRound>({ seconds, rows });
      into.push({ ...d, rowsPerInsert: rows, rowsPerSecond: d.rows / d.seconds });
      fastestLimit = Math.max(fastestLimit, d.rows / d.seconds);
      console.log(`  direct round ${r + 1}: ${(d.rows / d.seconds).toFixed(0)} rows/s at ${rows} rows per insert, CPU ${(d.cpuMicros / d.rows).toFixed(0)} µs per row`);
    };
    // Rotate the order of the three so none always runs first or last.
    const steps = [ingestRound, () => directRound(maxRows, limitRounds), () => directRound(ingestBatch, sameBatchRounds)];
    for (let k = 0; k < steps.length; k++) await (steps[(k + r) % steps.length] as () => Promise<void>)();
  }
  if (storedMismatch !== null) throw new Error(storedMismatch);

  // One large request alone, /healthz polled every 10 ms meanwhile from this process.
  await server.ask<IngestStats>({ op: 'reset' });
  let probing = true;
  const healthz: number[] = [];
  const poll = (async () => {
    while (probing && healthz.length < 100_000) {
      const t = performance.now();
      await (await fetch(`${url}/healthz`)).text();
      healthz.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const big = await exporter.ask<{ spans: number; ms: number; ok: boolean }>({ op: 'big', batches: Number(args['big-batches']) });
  probing = false;
  await poll;
  const bigStats = await server.ask<IngestStats>({ op: 'stats' });
  if (!big.ok) throw new Error(`the ${big.spans}-span request failed`);
  acked += big.spans;
  console.log(`  one request of ${big.spans} spans: ${big.ms.toFixed(0)} ms, event loop delay max ${bigStats.loopDelayMaxMs.toFixed(0)} ms, held by own work max ${bigStats.loopBusyMaxMs.toFixed(0)} ms, /healthz max ${Math.max(...healthz).toFixed(0)} ms`);
  const final = await server.ask<IngestStats>({ op: 'stats' });
  if (final.stored < acked) throw new Error(`${acked} spans acknowledged, ${final.stored} stored`);

  const ingestRate = summarize(ingestRounds.map((r) => r.spansPerSecond));
  const directSummary = (rs: DirectResult[]) => ({
    rowsPerInsert: summarize(rs.map((r) => r.rowsPerInsert)),
    cpuMicrosPerRow: summarize(rs.map((r) => r.cpuMicros / r.rows)),
    rowsPerSecond: summarize(rs.map((r) => r.rowsPerSecond)),
    insertMs: summarize(rs.flatMap((r) => r.insertMs)),
  });
  const limit = directSummary(limitRounds);
  const sameBatch = directSummary(sameBatchRounds);
  // What the cores allow: exporter and ingest share them, the direct inserter has them to itself.
  const cores = availableParallelism();
  const serverCpu = summarize(ingestRounds.map((r) => r.serverCpuMicros / r.acked)).median;
  const exporterCpu = summarize(ingestRounds.map((r) => r.cpuMicros / r.acked)).median;
  const ceiling = (cores * 1e6) / (serverCpu + exporterCpu);
  const cpuBound = {
    cores,
    /** 1-minute load average when the run started and when it ended (the run's own processes included). */
    loadAverage: [loadBefore, loadavg()[0] as number],
    /** Cores the ingest path kept busy (ingest and exporter processes) over a round. */
    ingestCoresUsed: summarize(ingestRounds.map((r) => (r.serverCpuMicros + r.cpuMicros) / 1e6 / r.seconds)),
    /** Cores the direct inserter kept busy while inserting. */
    limitCoresUsed: summarize(limitRounds.map((r) => r.cpuMicros / 1e6 / r.seconds)),
    /** Ingest CPU per span beyond the limit's per row: decoding, HTTP, handing rows over. */
    ingestOverheadMicrosPerSpan: serverCpu - limit.cpuMicrosPerRow.median,
    /** CPU a span takes through exporter and ingest for each µs a row takes the direct inserter. */
    cpuPerSpanOverLimit: (serverCpu + exporterCpu) / limit.cpuMicrosPerRow.median,
    // The two below hold on an otherwise idle machine: with other load the cores are not all ours.
    /** Spans/s if ingest and exporter had every core all the time at their CPU per span. */
    ceilingSpansPerSecond: ceiling,
    ceilingRatio: ceiling / limit.rowsPerSecond.median,
    /** The most ingest may add per span beyond the limit's CPU for ×0.8 even with every core busy. */
    overheadMicrosPerSpanForRatio08: (cores * 1e6) / (0.8 * limit.rowsPerSecond.median) - exporterCpu - limit.cpuMicrosPerRow.median,
  };
  console.log(
    `  CPU per span: ingest ${serverCpu.toFixed(1)} µs (limit ${limit.cpuMicrosPerRow.median.toFixed(1)} per row, so ${cpuBound.ingestOverheadMicrosPerSpan.toFixed(1)} more), exporter ${exporterCpu.toFixed(1)} µs: ${cores} cores allow ${ceiling.toFixed(0)} spans/s = ×${cpuBound.ceilingRatio.toFixed(2)} of the limit; ×0.8 needs ingest overhead ≤ ${cpuBound.overheadMicrosPerSpanForRatio08.toFixed(1)} µs`,
  );
  await writeResult('ingest', {
    roundSeconds: seconds,
    rounds,
    exportConcurrency: concurrency,
    spansPerExport: BATCH_SPANS,
    llmSpanShare: 102 / BATCH_SPANS,
    ingest: {
      spansPerSecond: ingestRate,
      /** CPU time per acknowledged span, all threads of the ingest process (chDB's too) and of the exporter's. */
      serverCpuMicrosPerSpan: summarize(ingestRounds.map((r) => r.serverCpuMicros / r.acked)),
      /** Of it, the main thread's (HTTP, group commit, the insert's body). */
      mainThreadCpuMicrosPerSpan: summarize(ingestRounds.map((r) => r.mainThreadCpuMicros / r.acked)),
      /** Of it, the decode worker threads' (protobuf to JSON lines, protobuf-lines.ts). */
      ...(ingestRounds.every((r) => r.decodeCpuMicros !== undefined) ? { decodeCpuMicrosPerSpan: summarize(ingestRounds.map((r) => (r.decodeCpuMicros as number) / r.acked)) } : {}),
      /** The exporter's: serializing and sending the round's spans (made before the round). */
      exporterCpuMicrosPerSpan: summarize(ingestRounds.map((r) => r.cpuMicros / r.acked)),
      /** Spans the exporter made before the rounds, and inside them after those ran out (0 when the budget held). */
      premadeSpans: ingestRounds.reduce((s, r) => s + r.premade, 0),
      spansMadeInRounds: ingestRounds.reduce((s, r) => s + r.madeInRound, 0),
      requestLatencyMs: summarize(ingestRounds.flatMap((r) => r.latenciesMs)),
      rowsPerInsert: summarize(ingestRounds.map((r) => r.rowsPerInsert)),
      insertMs: summarize(ingestRounds.map((r) => r.insertMs)),
      /** Share of the round an insert was running: near 1, the one-at-a-time insert is the bound. */
      insertingShare: summarize(ingestRounds.map((r) => r.insertingShare)),
      failedSpans: ingestRounds.reduce((s, r) => s + r.failed, 0),
      requestsByStatus: final.requestsByStatus,
      rssMaxBytes: Math.max(...ingestRounds.map((r) => r.rssMaxBytes)),
      rssEndBytes: final.rssBytes,
      loopDelayMaxMs: summarize(ingestRounds.map((r) => r.loopDelayMaxMs)),
      loopDelayP99Ms: summarize(ingestRounds.map((r) => r.loopDelayP99Ms)),
      loopBusyMaxMs: summarize(ingestRounds.map((r) => r.loopBusyMaxMs)),
      acknowledged: acked,
      stored: final.stored,
    },
    bigRequest: {
      spans: big.spans,
      ms: big.ms,
      loopDelayMaxMs: bigStats.loopDelayMaxMs,
      loopDelayP99Ms: bigStats.loopDelayP99Ms,
      loopBusyMaxMs: bigStats.loopBusyMaxMs,
      healthzMs: summarize(healthz),
    },
    limit,
    sameBatch,
    cpuBound,
    ratio: ingestRate.median / limit.rowsPerSecond.median,
    // Each ingest round over the limit round of the same rotation: the spread of these is what decides a threshold.
    pairedRatio: summarize(ingestRounds.map((r, i) => r.spansPerSecond / (limitRounds[i] as DirectResult).rowsPerSecond)),
    sameBatchRatio: ingestRate.median / sameBatch.rowsPerSecond.median,
  });
} finally {
  await exporter.close();
  await direct.close();
  await server.close();
}
