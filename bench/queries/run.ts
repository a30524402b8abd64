// Benchmark 3: dashboard and alert query latency on synthetic LLM calls generated inside chDB,
// with the derived tables (llm_calls, per-minute rollups) and without them (the same questions
// answered from otel_traces at query time). Variants alternate query by query.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL, expandMacros, type MacroContext } from '@llm-prism/grafana';
import { LLM_CALL_HOURS, LLM_COMPLETION_COUNTS, LLM_COST_HOURS, LLM_COST_MINUTES, LLM_DUPLICATE_HOURS, LLM_LATENCY_HOURS, LLM_LATENCY_MINUTES, LLM_TTFT_COUNTS, openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { summarize, type Summary } from '../lib/stats.ts';
import { ROOT, writeResult } from '../lib/results.ts';
import { dependsOnRange, loadCatalog, type CatalogQuery } from './catalog.ts';
import { compareRows, type Agreement, type Row } from './compare.ts';
import { GENERATE_SELECT, generateCalls } from './generate.ts';
import { DAY, END, HOUR, intervalFor, RANGES } from './ranges.ts';
import { rawRewriter, type RawRewriter } from './raw.ts';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000000' },
    // 10 M calls take about four minutes here: the default lets `npm run bench` generate them all.
    'gen-budget-s': { type: 'string', default: '600' },
    /** Result file name under bench/results (a second size: `queries-1m`). */
    name: { type: 'string', default: 'queries' },
    reps: { type: 'string', default: '10' },
    /** Derived runs of one query stop once they took this long (after at least MIN_REPS). */
    'query-budget-s': { type: 'string', default: '2' },
    'raw-reps': { type: 'string', default: '3' },
    // The raw answers take ~80 s in a fast host hour, twice that in a slow one: all of them fit.
    'raw-budget-s': { type: 'string', default: '240' },
    /**
     * Keep the generated data here and reuse it on the next run with the same size and generator
     * (the 10 M generation takes minutes); without it a temporary directory is removed at the end.
     */
    'data-dir': { type: 'string' },
    /** Only the queries whose name matches this regular expression (exploring one panel). */
    match: { type: 'string' },
  },
});

const MIN_REPS = 3;
/** The rollup tables (rows with the same key add up when their parts merge). */
const ROLLUPS = [LLM_TTFT_COUNTS, LLM_COMPLETION_COUNTS, LLM_CALL_HOURS, LLM_LATENCY_HOURS, LLM_COST_HOURS, LLM_DUPLICATE_HOURS, LLM_COST_MINUTES, LLM_LATENCY_MINUTES];
/** A raw run slower than this is not repeated: one sample is worth more spent on other queries. */
const RAW_REPEAT_BELOW_MS = 2_000;

async function timed(storage: Storage, sql: string): Promise<{ ms: number; rows: Row[] }> {
  const t0 = performance.now();
  const result = await storage.client.query({ query: sql, format: 'JSONEachRow' });
  const rows = await result.json<Row>();
  return { ms: performance.now() - t0, rows };
}

interface Measurement {
  query: string;
  kind: CatalogQuery['kind'];
  range: string;
  rows: number;
  derivedMs: Summary;
  rawMs: Summary | null;
  rawResult: Agreement | 'not run (time budget)' | null;
  speedup: number | null;
}

async function measure(
  storage: Storage,
  q: CatalogQuery,
  range: string,
  ctx: MacroContext,
  toRaw: RawRewriter | null,
  budget: { rawLeftMs: number },
): Promise<Measurement> {
  const sql = expandMacros(q.sql, ctx);
  const rawSql = toRaw === null ? null : toRaw(sql, ctx.intervalMs);
  const first = await timed(storage, sql); // warm-up, also the reference answer
  const derived: number[] = [];
  const raw: number[] = [];
  let rawResult: Measurement['rawResult'] = rawSql === null ? null : 'not run (time budget)';
  const reps = Number(args.reps);
  const queryBudgetMs = Number(args['query-budget-s']) * 1000;
  let spentMs = 0;
  for (let i = 0; i < reps && (i < MIN_REPS || spentMs < queryBudgetMs); i++) {
    const d = await timed(storage, sql);
    derived.push(d.ms);
    spentMs += d.ms;
    // Alternate: one raw run after each derived run while the raw reps and the budget last.
    const rawWanted = raw.length === 0 || (raw.length < Number(args['raw-reps']) && Math.max(...raw) < RAW_REPEAT_BELOW_MS);
    if (rawSql !== null && rawWanted && budget.rawLeftMs > 0) {
      const r = await timed(storage, rawSql);
      budget.rawLeftMs -= r.ms;
      if (raw.length === 0) rawResult = compareRows(first.rows, r.rows);
      raw.push(r.ms);
    }
  }
  const derivedMs = summarize(derived);
  const rawMs = raw.length > 0 ? summarize(raw) : null;
  return {
    query: q.name,
    kind: q.kind,
    range,
    rows: first.rows.length,
    derivedMs,
    rawMs,
    rawResult,
    speedup: rawMs === null ? null : rawMs.median / derivedMs.median,
  };
}

const cached = args['data-dir'];
const dataDir = cached ?? (await tempDataDir('llm-prism-bench-queries-'));
// An interrupted run still removes its (multi-GB) temporary data directory.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (cached === undefined) rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  });
}
const requested = Number(args.calls);
/** What the cached data was generated from: a different size, period or generator regenerates it. */
const dataKey = createHash('sha256').update(JSON.stringify({ requested, END, GENERATE_SELECT })).digest('hex');
const keyFile = join(dataDir, 'llm-prism-bench-data.json');
const reuse = cached !== undefined && (await readFile(keyFile, 'utf8').catch(() => '')) === dataKey;
if (cached !== undefined && !reuse) {
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
}
// A reused directory made by an older release is migrated on open, as a user's would be.
const storage = await openStorage({ dataDir });
try {
  let generated: { calls: number; seconds: number | null };
  if (reuse) {
    console.log(`reusing the ${requested.toLocaleString('en')} calls generated in ${dataDir}`);
    generated = { calls: requested, seconds: null };
  } else {
    console.log(`generating ${requested.toLocaleString('en')} calls over 30 days inside chDB…`);
    generated = await generateCalls(storage, {
      calls: requested,
      end: END,
      days: 30,
      chunks: Math.max(1, Math.ceil(requested / 500_000)),
      budgetSeconds: Number(args['gen-budget-s']),
      onChunk: (done, ms) => console.log(`  ${done.toLocaleString('en')} calls, ${(ms / 1000).toFixed(0)} s`),
    });
    // Every chunk spans all 30 days, so each hour's rollup rows arrive in every chunk's insert; live
    // ingest writes an hour within the hour and background merges fold its rows soon after. Fold
    // them now, as in that steady state (docs/clickhouse.md, "Scale").
    for (const rollup of ROLLUPS) await storage.client.command({ query: `OPTIMIZE TABLE ${storage.database}.${rollup} FINAL` });
    // Only a complete generation is reused.
    if (cached !== undefined && generated.calls === requested) await writeFile(keyFile, dataKey);
  }
  const [counts] = (
    await timed(
      storage,
      `SELECT (SELECT count() FROM otel.otel_traces) AS spans, (SELECT count() FROM otel.llm_calls) AS calls,
              (SELECT sum(Calls) FROM otel.llm_completion_counts) AS rollup_calls,
              (SELECT count() FROM system.parts WHERE active AND database = 'otel' AND table = 'otel_traces') AS parts`,
    )
  ).rows as [Row];
  if (Number(counts.spans) !== generated.calls || Number(counts.calls) !== generated.calls) {
    throw new Error(`generated ${generated.calls} calls but otel_traces has ${counts.spans} and llm_calls ${counts.calls}`);
  }

  const catalog = await loadCatalog(ROOT);
  const toRaw = await rawRewriter(storage);
  const [sample] = (await timed(storage, `SELECT TraceId FROM otel.llm_calls WHERE Timestamp >= fromUnixTimestamp64Milli(${END - HOUR}) ORDER BY DurationMs DESC LIMIT 1`)).rows;
  const vars = { service: ALL, model: ALL, trace_id: String(sample?.TraceId ?? '') };
  const budget = { rawLeftMs: Number(args['raw-budget-s']) * 1000 };
  const measurements: Measurement[] = [];
  // Alert queries, then the SLO panels, then the other panels from the shortest range to the
  // longest: the raw budget goes first to the questions the rollups exist for.
  const match = args.match === undefined ? null : new RegExp(args.match);
  const tasks = catalog.filter((q) => match === null || match.test(q.name)).flatMap((q) =>
    q.kind === 'alert'
      ? [{ q, priority: 0, range: { label: `rule (${q.relativeSeconds} s)`, ms: (q.relativeSeconds ?? 0) * 1000 } }]
      : dependsOnRange(q.sql)
        ? RANGES.map((range, i) => ({ q, priority: 2 + i, range }))
        : [{ q, priority: 1, range: { label: 'fixed window', ms: 30 * DAY } }],
  );
  tasks.sort((a, b) => a.priority - b.priority);
  for (const { q, range } of tasks) {
    const ctx: MacroContext = { from: END - range.ms, to: END, intervalMs: q.kind === 'alert' ? 60_000 : intervalFor(range.ms), vars };
    const m = await measure(storage, q, range.label, ctx, toRaw, budget);
    measurements.push(m);
    const raw = m.rawMs === null ? m.rawResult ?? '' : `raw ${m.rawMs.median.toFixed(0)} ms (${m.rawResult}), ×${m.speedup?.toFixed(1)}`;
    console.log(`  ${m.derivedMs.median.toFixed(1).padStart(7)} ms  ${q.name} @${range.label}  ${raw}`);
  }
  // What the tables hold on disk: rows and bytes per stored call (docs/clickhouse.md).
  const tables = (
    await timed(
      storage,
      `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts
       WHERE active AND database = '${storage.database}' GROUP BY table ORDER BY table`,
    )
  ).rows.map((r) => ({ table: String(r.table), rows: Number(r.rows), bytes: Number(r.bytes), bytesPerCall: Number(r.bytes) / generated.calls }));
  await writeResult(args.name as string, {
    requestedCalls: requested,
    calls: generated.calls,
    days: 30,
    generationSeconds: generated.seconds,
    generationCallsPerSecond: generated.seconds === null ? null : generated.calls / generated.seconds,
    reusedDataDir: reuse,
    tables,
    match: args.match ?? null,
    otelTracesParts: Number(counts.parts),
    rollupCalls: Number(counts.rollup_calls),
    end: new Date(END).toISOString(),
    reps: Number(args.reps),
    minReps: MIN_REPS,
    queryBudgetSeconds: Number(args['query-budget-s']),
    rawRepeatBelowMs: RAW_REPEAT_BELOW_MS,
    rawReps: Number(args['raw-reps']),
    rawBudgetSeconds: Number(args['raw-budget-s']),
    measurements,
  });
} finally {
  await storage.close();
  if (cached === undefined) await rm(dataDir, { recursive: true, force: true });
}
