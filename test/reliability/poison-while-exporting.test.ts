// Issue 13's "done when": a healthy application exports continuously (official protobuf exporter,
// BatchSpanProcessor every 50 ms) into `llm-prism serve` while three poisons are re-sent every
// second by the official JSON exporter (`exporter-trace-otlp-http`): a lone surrogate (`\ud83d`,
// half an emoji), a start time after 2262, and one request spanning more than 100 days. The healthy
// application must get only 200s and have every span stored once; each poison export must end in
// a 400 or a partial_success naming its rejected spans, or be stored whole.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildPoison, type PoisonRecipe } from './bad-inputs.ts';
import { drain, loadClient, newLedger, pacedLoad } from './load-clients.ts';
import { report, tally } from './tally.ts';
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
  'start after 2262': { kind: 'far-future', encoding: 'json', what: 'start', unixSeconds: Date.UTC(2300, 0, 1) / 1000 },
  'over 100 days': { kind: 'many-days', encoding: 'json', days: 150, stepDays: 1 },
};

interface Sent {
  name: string;
  spans: ReadableSpan[];
  results: ExportResult[];
}

test('a healthy exporter gets only 200s and every span stored while three poisons are re-sent every second', async () => {
  const ledger = newLedger();
  const healthy = loadClient(serve.url, 'poison-healthy', ledger);
  const sent: Sent[] = Object.entries(POISONS).map(([name, recipe]) => ({ name, spans: buildPoison(recipe, 'poison-sender', name).spans, results: [] }));
  const exporters = sent.map(() => new JsonExporter({ url: `${serve.url}/v1/traces` }));

  const poisoning = (async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await new Promise((r) => setTimeout(r, round === 0 ? 500 : 1000));
      // The same spans each time, as an exporter re-sends a batch.
      await Promise.all(sent.map((s, i) => new Promise<void>((done) => exporters[i]!.export(s.spans, (result) => (s.results.push(result), done())))));
    }
  })();
  const load = await pacedLoad([healthy], ledger, HEALTHY_SPANS_PER_SECOND, ROUNDS * 1000 + 1000);
  await poisoning;
  await drain([healthy]);
  await Promise.all(exporters.map((e) => e.shutdown()));

  const metrics = await (await fetch(`${serve.url}/metrics`)).text();
  const answers = Object.fromEntries([...metrics.matchAll(/^llm_prism_ingest_requests_total\{status="(\d+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  expect(await stopServe(serve)).toBe(0);
  storage = await openStorage({ dataDir });
  const counts = await tally(storage, ledger, 'poison-healthy');
  const result = await storage.client.query({
    query: `SELECT SpanId AS id, count() AS n FROM ${storage.database}.otel_traces WHERE ServiceName = 'poison-sender' GROUP BY SpanId`,
    format: 'JSONEachRow',
  });
  const poisonStored = new Map((await result.json<{ id: string; n: number }>()).map((r) => [r.id, Number(r.n)]));

  const poisons = sent.map((s) => {
    const refusedSpans = s.spans.filter((span) => !poisonStored.has(span.spanContext().spanId));
    const storedTimes = [...new Set(s.spans.map((span) => poisonStored.get(span.spanContext().spanId) ?? 0))].filter((n) => n > 0);
    const failures = s.results.filter((r) => r.code !== ExportResultCode.SUCCESS);
    return {
      name: s.name,
      spans: s.spans.length,
      refused: refusedSpans.length,
      refusedNamed: refusedSpans.filter((span) => warnings.some((w) => w.includes(`span ${JSON.stringify(span.name)}: `))).length,
      // Each stored span once per round in which it was acknowledged.
      storedTimes,
      succeeded: s.results.length - failures.length,
      failedWith: failures.map((f) => (f.error as { code?: number } | undefined)?.code),
      failedMessages: failures.map((f) => String((f.error as { data?: string } | undefined)?.data ?? f.error?.message)),
    };
  });
  report('poison-while-exporting', {
    rounds: ROUNDS,
    healthy: { created: counts.created, acked: counts.acked, failed: ledger.failed.size, stored: counts.stored, lost: counts.lostAcked, duplicated: counts.duplicated, offeredPerSecond: Math.round((load.created * 1000) / load.elapsedMs) },
    answers,
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
    expect(p.failedWith.every((code) => code === 400), p.name).toBe(true);
    if (p.failedWith.length > 0) expect(p.refused, p.name).toBe(p.spans);
    for (const message of p.failedMessages) expect(message, p.name).toMatch(/\d+ span\(s\) rejected: span ".*": /);
    // Every span not stored was named as rejected; the others are stored once per acknowledged export.
    expect(p.refusedNamed, p.name).toBe(p.refused);
    expect(p.storedTimes, p.name).toEqual(p.refused === p.spans ? [] : [p.succeeded]);
  }
  // Only the poisoned span is ever refused: the time after 2262 (by storage, or by validation
  // before storage), the lone surrogate's span (by storage, unless validation made the string
  // well-formed first); the 150 days are stored.
  expect(poisons.map((p) => [p.name, p.refused])).toEqual([
    ['lone surrogate', expect.toBeOneOf([0, 1])],
    ['start after 2262', 1],
    ['over 100 days', 0],
  ]);
}, 60_000); // about 12 s: 6 s of load, serve's start and stop
