// Issue 13's "done when": a healthy application exports continuously (official protobuf exporter,
// BatchSpanProcessor every 50 ms) into `llm-prism serve` while three poisons are re-sent every
// second by the official JSON exporter (`exporter-trace-otlp-http`): a lone surrogate (`\ud83d`,
// half an emoji), a start time after 2100 (in 2300), and one request spanning more than 100 days. The healthy
// application must get only 200s and have every span stored once; each poison export must end in
// a 400 or a partial_success naming its rejected spans, or be stored whole. Validation before
// storage decides the first two: the lone surrogate is stored made well-formed (U+FFFD in its
// place), the time after 2100 is refused and named; the 150 days are stored in groups of days.
import { diag, DiagLogLevel, SpanKind, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildPoison, REJECTED_MESSAGE, spanLabel, type PoisonRecipe } from './bad-inputs.ts';
import { drain, loadClient, newLedger, pacedLoad } from './load-clients.ts';
import { insertDurations, report, tally } from './tally.ts';
import { freePort, startServe, stopServe, type ServeProcess } from '../../packages/cli/test/serve-process.ts';

const ROUNDS = 5;
const HEALTHY_SPANS_PER_SECOND = 200;

let dataDir: string;
let serve: ServeProcess;
let storage: Storage | undefined;
/** error_message of every partial_success the poison exporters received. */
const warnings: string[] = [];
beforeAll(async () => {
  dataDir = await tempDataDir();
  serve = await startServe({ dataDir, port: await freePort() });
  // The exporter reports a partial_success only through diag.warn('Received Partial Success
  // response:', JSON.stringify(partialSuccess)): keep its error_message.
  const ignore = () => {};
  const warn = (message: string, ...args: unknown[]) => {
    if (!message.startsWith('Received Partial Success')) return;
    warnings.push((JSON.parse(String(args[0])) as { errorMessage: string }).errorMessage);
  };
  const logger: DiagLogger = { error: ignore, info: ignore, debug: ignore, verbose: ignore, warn };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
});
afterAll(async () => {
  diag.disable();
  if (serve) await stopServe(serve);
  await storage?.close();
});

const POISONS: Record<string, PoisonRecipe> = {
  // What `text.slice(0, n)` leaves of an emoji: the high surrogate of U+1F44B.
  'lone surrogate': { kind: 'lone-surrogate', encoding: 'json', place: 'attribute-value', unit: '👋'.charCodeAt(0), at: 'end' },
  'start after 2100': { kind: 'far-future', encoding: 'json', what: 'start', unixSeconds: Date.UTC(2300, 0, 1) / 1000 },
  'over 100 days': { kind: 'many-days', encoding: 'json', days: 150, stepDays: 1 },
};

interface Sent {
  name: string;
  spans: ReadableSpan[];
  repaired?: string;
  results: ExportResult[];
  /** How long each export took to complete, ms (the exporter gives up after 10 s). */
  ms: number[];
}

const isCallSpan = (span: ReadableSpan): boolean => span.kind === SpanKind.CLIENT && span.attributes['gen_ai.operation.name'] !== undefined;

test('a healthy exporter gets only 200s and every span stored while three poisons are re-sent every second', async () => {
  const ledger = newLedger();
  const healthy = loadClient(serve.url, 'poison-healthy', ledger);
  const sent: Sent[] = Object.entries(POISONS).map(([name, recipe]) => ({ name, ...buildPoison(recipe, 'poison-sender', name), results: [], ms: [] }));
  const exporters = sent.map(() => new JsonExporter({ url: `${serve.url}/v1/traces` }));

  const poisoning = (async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await new Promise((r) => setTimeout(r, round === 0 ? 500 : 1000));
      // The same spans each time, as an exporter re-sends a batch.
      await Promise.all(
        sent.map((s, i) => {
          const t0 = performance.now();
          return new Promise<void>((done) => exporters[i]!.export(s.spans, (result) => (s.results.push(result), s.ms.push(Math.round(performance.now() - t0)), done())));
        }),
      );
    }
  })();
  const load = await pacedLoad([healthy], ledger, HEALTHY_SPANS_PER_SECOND, ROUNDS * 1000 + 1000);
  await poisoning;
  await drain([healthy]);
  await Promise.all(exporters.map((e) => e.shutdown()));

  const metrics = await (await fetch(`${serve.url}/metrics`)).text();
  const inserts = insertDurations(metrics);
  const answers = Object.fromEntries([...metrics.matchAll(/^llm_prism_ingest_requests_total\{status="(\d+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  expect(await stopServe(serve)).toBe(0);
  storage = await openStorage({ dataDir });
  const counts = await tally(storage, ledger, 'poison-healthy');
  const result = await storage.client.query({
    query: `SELECT SpanId AS id, count() AS n, groupUniqArray(SpanAttributes['poison.key']) AS cut FROM ${storage.database}.otel_traces WHERE ServiceName = 'poison-sender' GROUP BY SpanId`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ id: string; n: number; cut: string[] }>();
  const poisonStored = new Map(rows.map((r) => [r.id, Number(r.n)]));
  /** The stored values of the poisoned attribute (`poison.key`, 'cut text' + half an emoji), by span id. */
  const cutText = new Map(rows.map((r) => [r.id, r.cut]));

  const poisons = sent.map((s) => {
    const refusedSpans = s.spans.filter((span) => !poisonStored.has(span.spanContext().spanId));
    // How many times the stored spans are stored (distinct values), LLM call spans apart: storage
    // keeps a call span once however often it is re-sent (insert-dedup.ts), any other span once per round.
    const timesStored = (calls: boolean) =>
      [...new Set(s.spans.filter((span) => isCallSpan(span) === calls).map((span) => poisonStored.get(span.spanContext().spanId) ?? 0))].filter((n) => n > 0);
    const failures = s.results.filter((r) => r.code !== ExportResultCode.SUCCESS);
    return {
      name: s.name,
      spans: s.spans.length,
      refused: refusedSpans.length,
      refusedNamed: refusedSpans.filter((span) => warnings.some((w) => REJECTED_MESSAGE.test(w) && w.includes(`${spanLabel(span)}: `))).length,
      // What the lone surrogate's attribute became in storage, in every stored copy.
      storedAs: s.repaired === undefined ? undefined : [...new Set(s.spans.flatMap((span) => cutText.get(span.spanContext().spanId) ?? []).filter((v) => v !== ''))],
      // Each stored span once per round in which it was acknowledged; a call span once.
      storedTimes: timesStored(false),
      callStoredTimes: timesStored(true),
      exportMs: s.ms,
      succeeded: s.results.length - failures.length,
      failedWith: failures.map((f) => (f.error as { code?: number } | undefined)?.code),
      failedMessages: failures.map((f) => String((f.error as { data?: string } | undefined)?.data ?? f.error?.message)),
    };
  });
  report('poison-while-exporting', {
    rounds: ROUNDS,
    healthy: { created: counts.created, acked: counts.acked, failed: ledger.failed.size, failedWhy: ledger.failedWhy, slowestExportMs: ledger.slowestExportMs, stored: counts.stored, lost: counts.lostAcked, duplicated: counts.duplicated, offeredPerSecond: Math.round((load.created * 1000) / load.elapsedMs) },
    answers,
    inserts,
    poisons: poisons.map(({ failedMessages, ...p }) => ({ ...p, failedMessage: failedMessages[0]?.slice(0, 160) })),
  });

  // The healthy application: every span acknowledged and stored once, no export failed.
  expect(ledger.failed.size).toBe(0);
  expect([counts.acked, counts.stored, counts.lostAcked, counts.duplicated]).toEqual([counts.created, counts.created, 0, 0]);
  // Nobody was answered 503 (storage unavailable), 429 or any 5xx: only 200s, and 400s for poisons.
  expect(Object.keys(answers).filter((status) => status !== '200' && status !== '400')).toEqual([]);
  for (const p of poisons) {
    expect(p.succeeded + p.failedWith.length, p.name).toBe(ROUNDS);
    // A 400 is final (the exporter does not retry it) and means nothing of that request was stored.
    // Anything else is shown with its message and how long the export took: the exporter's own
    // "Request timed out" after 10 s is a slow answer (ingest stores the request and answers 200
    // once the exporter has gone), not a refusal.
    const notFinal = p.failedWith.flatMap((code, i) => (code === 400 ? [] : [`${code ?? 'no answer'}: ${p.failedMessages[i]}`]));
    expect(notFinal, `${p.name}: exports took ${p.exportMs.join(', ')} ms`).toEqual([]);
    if (p.failedWith.length > 0) expect(p.refused, p.name).toBe(p.spans);
    for (const message of p.failedMessages) expect(message, p.name).toMatch(REJECTED_MESSAGE);
    // Every span not stored was named as rejected; the others are stored once per acknowledged export.
    expect(p.refusedNamed, p.name).toBe(p.refused);
    expect(p.storedTimes, p.name).toEqual(p.refused === p.spans ? [] : [p.succeeded]);
    expect(p.callStoredTimes.every((n) => n === 1), p.name).toBe(true);
  }
  // Only the span starting in 2300 is refused (by validation, named with its start time); the lone
  // surrogate is stored with U+FFFD in its place, exactly so; the 150 days are stored.
  expect(poisons.map((p) => [p.name, p.refused])).toEqual([
    ['lone surrogate', 0],
    ['start after 2100', 1],
    ['over 100 days', 0],
  ]);
  expect(poisons[0]!.storedAs).toEqual(['cut text\uFFFD']);
  expect(warnings.filter((w) => w.includes('(span_id ')).every((w) => /: start_time_unix_nano \d+ is after 2100-01-01 /.test(w))).toBe(true);
}, 60_000); // about 12 s: 6 s of load, serve's start and stop
