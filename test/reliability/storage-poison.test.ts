// Storage poison: requests every decoder accepts, with values storage cannot hold (a lone UTF-16
// surrogate, a time after 2100: the rollups' DateTime ends in 2106, DateTime64(9) in 2262) or a
// spread over more than 100 daily partitions, or sizes
// at the edges, sent to `llm-prism serve` (a child process on chDB) while healthy clients export
// alongside. Before failure isolation one such span failed its whole group-commit batch with 503
// and made ingest refuse everyone for Retry-After (measured: a healthy client got 124 of 160
// exports answered 503). Now healthy clients must see only 200s and lose nothing, and each
// poison's spans must each be either stored or named as rejected (partial_success, or 400 when
// none could be stored). Validation before storage decides most of them first: a lone surrogate
// is stored made well-formed (U+FFFD in its place, checked here), a time after 2100 is refused;
// whatever still fails in ClickHouse is refused by failure isolation, named the same way.
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildPoison, CONTENT_TYPE, poisonRecipe, REJECTED_MESSAGE, sdkSpans, serialize, spanLabel, type Encoding, type PoisonRecipe } from './bad-inputs.ts';
import { otlpMessage, post } from './http-post.ts';
import { drain, emitSpan, loadClient, newLedger } from './load-clients.ts';
import { insertDurations, report, tally } from './tally.ts';
import { freePort, startServe, stopServe, type ServeProcess } from '../../packages/cli/test/serve-process.ts';

const RUNS = Number(process.env.LLM_PRISM_POISON_RUNS ?? 16);
const SEED = Number(process.env.LLM_PRISM_FUZZ_SEED ?? 20261201);

let dataDir: string;
let serve: ServeProcess;
let storage: Storage | undefined;
beforeAll(async () => {
  dataDir = await tempDataDir();
  serve = await startServe({ dataDir, port: await freePort() });
});
afterAll(async () => {
  if (serve) await stopServe(serve);
  await storage?.close();
});

/** Storage, opened once serve has exited (chDB: one process per data directory). */
async function openAfterServe(): Promise<Storage> {
  await stopServe(serve);
  storage ??= await openStorage({ dataDir });
  return storage;
}

/** How often each span id is in otel_traces. */
async function storedCounts(ids: string[]): Promise<Map<string, number>> {
  const result = await storage!.client.query({
    query: `SELECT SpanId AS id, count() AS n FROM ${storage!.database}.otel_traces WHERE has({ids:Array(String)}, SpanId) GROUP BY SpanId`,
    query_params: { ids },
    format: 'JSONEachRow',
  });
  return new Map((await result.json<{ id: string; n: number }>()).map((r) => [r.id, Number(r.n)]));
}

/** The texts a poison can sit in, per span id, as one JSON text (U+FFFD stays as it is). */
async function storedTexts(ids: string[]): Promise<Map<string, string>> {
  const result = await storage!.client.query({
    query: `SELECT SpanId AS id, SpanName, SpanAttributes, ResourceAttributes, ScopeName, StatusMessage, Events.Name AS EventNames FROM ${storage!.database}.otel_traces WHERE has({ids:Array(String)}, SpanId)`,
    query_params: { ids },
    format: 'JSONEachRow',
  });
  return new Map((await result.json<{ id: string }>()).map((r) => [r.id, JSON.stringify(r)]));
}

/** Answers other than 200 and 400 so far, from ingest's own counter (any client). */
function refusals(text: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const m of text.matchAll(/^llm_prism_ingest_requests_total\{status="(\d+)"\} (\d+)/gm)) {
    if (m[1] !== '200' && m[1] !== '400') found[m[1]!] = Number(m[2]);
  }
  return found;
}

const spanIds = (spans: ReadableSpan[]) => spans.map((s) => s.spanContext().spanId);

interface PoisonOutcome {
  recipe: PoisonRecipe;
  spans: ReadableSpan[];
  repaired?: string;
  status: number;
  rejected: number;
  message: string;
}

/**
 * Each poison span stored once or named as rejected, never both; the counts agree with the answer;
 * a lone surrogate is stored as repaired (U+FFFD), not refused.
 */
function checkPoison(p: PoisonOutcome, stored: Map<string, number>, texts: Map<string, string>, times = 1): string | undefined {
  const notStored = p.spans.filter((s) => !stored.has(s.spanContext().spanId));
  const twice = p.spans.filter((s) => (stored.get(s.spanContext().spanId) ?? 0) > times);
  if (twice.length > 0) return `${twice.length} span(s) stored more than ${times} time(s)`;
  if (p.status !== 200 && p.status !== 400) return `answered ${p.status}`;
  if (p.status === 400 && notStored.length !== p.spans.length) return 'answered 400 but spans were stored';
  const rejected = p.status === 400 ? Number(/^(\d+) span\(s\) rejected: /.exec(p.message)?.[1]) : p.rejected;
  if (rejected !== notStored.length) return `${rejected} named rejected, ${notStored.length} not stored`;
  if (rejected > 0) {
    if (!REJECTED_MESSAGE.test(p.message)) return `unclear message: ${p.message.slice(0, 200)}`;
    // The first three rejected spans are named (ingest names 20, and counts the rest).
    const named = notStored.filter((s) => p.message.includes(`${spanLabel(s)}: `));
    if (named.length < Math.min(3, notStored.length)) return `rejected spans not named: ${p.message.slice(0, 200)}`;
  }
  if (p.repaired !== undefined) {
    if (notStored.length > 0) return `lone surrogate refused instead of repaired: ${p.message.slice(0, 200)}`;
    if (!p.spans.some((s) => texts.get(s.spanContext().spanId)?.includes(p.repaired!))) return `repaired text ${JSON.stringify(p.repaired)} not stored`;
  }
  return undefined;
}

test(`${RUNS} generated storage poisons beside healthy clients: healthy ones get only 200s and lose nothing`, async () => {
  // A background application exporting all along, through the official protobuf exporter.
  const ledger = newLedger();
  const background = loadClient(serve.url, 'storage-poison-bg', ledger);
  let emitting = true;
  const emitter = (async () => {
    for (let i = 0; emitting; i++) {
      emitSpan(background.tracer, ledger, i);
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const healthy: { ids: string[]; status: number; rejected: number }[] = [];
  const poisons: PoisonOutcome[] = [];
  let n = 0;
  await fc.assert(
    fc.asyncProperty(poisonRecipe, async (recipe) => {
      const label = `poison ${n++}`;
      const poison = buildPoison(recipe, 'storage-poison', label);
      // Three healthy requests sent at the same moment, so that they share inserts with the poison.
      const sends = (['protobuf', 'json', 'protobuf'] as Encoding[]).map(async (enc) => {
        const spans = sdkSpans('storage-poison-healthy');
        const res = await post(`${serve.url}/v1/traces`, { 'content-type': CONTENT_TYPE[enc] }, serialize(spans, enc));
        healthy.push({ ids: spanIds(spans), status: res.status, rejected: otlpMessage(res).rejected });
      });
      const res = await post(`${serve.url}/v1/traces`, poison.headers, poison.body);
      await Promise.all(sends);
      poisons.push({ recipe, spans: poison.spans, status: res.status, ...otlpMessage(res), ...(poison.repaired === undefined ? {} : { repaired: poison.repaired }) });
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  emitting = false;
  await emitter;
  await drain([background]);
  const metrics = await (await fetch(`${serve.url}/metrics`)).text();
  const refused = refusals(metrics);
  const unexpectedErrors = serve.stderr().split('unexpected error').length - 1;

  await openAfterServe();
  const healthyStored = await storedCounts(healthy.flatMap((h) => h.ids));
  const poisonStored = await storedCounts(poisons.flatMap((p) => spanIds(p.spans)));
  const poisonTexts = await storedTexts(poisons.filter((p) => p.repaired !== undefined).flatMap((p) => spanIds(p.spans)));
  const violations = poisons
    .map((p) => ({ recipe: JSON.stringify(p.recipe), problem: checkPoison(p, poisonStored, poisonTexts) }))
    .filter((v) => v.problem !== undefined);
  const counts = await tally(storage!, ledger, 'storage-poison-bg');
  const byKind: Record<string, Record<string, number>> = {};
  for (const p of poisons) {
    const outcome = p.status === 400 ? '400' : p.rejected > 0 ? 'partial_success' : 'stored';
    const kind = (byKind[p.recipe.kind] ??= {});
    kind[outcome] = (kind[outcome] ?? 0) + 1;
  }

  report('storage-poison', {
    poisons: poisons.length,
    seed: SEED,
    byKind,
    spansRejected: poisons.reduce((sum, p) => sum + (p.spans.length - p.spans.filter((s) => poisonStored.has(s.spanContext().spanId)).length), 0),
    violations: violations.length,
    repaired: poisons.filter((p) => p.repaired !== undefined).length,
    // Refused by ClickHouse and isolated by group commit, rather than by validation before it.
    refusedByStorage: poisons.filter((p) => p.message.includes('): storage refused it: ')).length,
    healthyRequests: healthy.length,
    healthyNot200: healthy.filter((h) => h.status !== 200 || h.rejected > 0).length,
    healthySpans: healthy.reduce((sum, h) => sum + h.ids.length, 0),
    healthyStored: [...healthyStored.values()].filter((c) => c === 1).length,
    background: { created: counts.created, acked: counts.acked, failed: ledger.failed.size, failedWhy: ledger.failedWhy, slowestExportMs: ledger.slowestExportMs, stored: counts.stored, lost: counts.lostAcked, duplicated: counts.duplicated },
    refusedAnswers: refused,
    inserts: insertDurations(metrics),
    unexpectedErrors,
  });
  expect(violations).toEqual([]);
  expect(healthy.filter((h) => h.status !== 200 || h.rejected > 0)).toEqual([]);
  for (const id of healthy.flatMap((h) => h.ids)) expect(healthyStored.get(id), id).toBe(1);
  // Why any export failed: an answer other than 200 is a refusal, the exporter's timeout a slow answer.
  expect(ledger.failedWhy).toEqual({});
  expect([counts.created, counts.acked, counts.stored, counts.lostAcked, counts.duplicated]).toEqual([counts.created, counts.created, counts.created, 0, 0]);
  // No one was answered 503 (storage unavailable), 429 or 5xx.
  expect(refused).toEqual({});
  expect(unexpectedErrors).toBe(0);
  // Isolation was exercised: some poisons were refused, in part or whole.
  expect(poisons.some((p) => p.status === 400 || p.rejected > 0)).toBe(true);
}, 300_000); // bounded by the number of runs: 16 take about 15 s on the busy 2-core machine, 120 about 82 s
