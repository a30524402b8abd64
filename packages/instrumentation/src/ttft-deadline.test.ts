/**
 * Hangs are reported while they hang (issue 14, item 2): a call without output at its TTFT
 * deadline exports an `llm.ttft_deadline` span at once, before the call ends; a call whose output
 * arrives in time exports none; the call span is marked; and the report reaches the SLO rollups
 * under the call's own identity, so the call counts once (OTLP JSON → ingest → chDB).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { context, diag, DiagLogLevel, SpanKind, type Tracer } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeJsonRequest, otlpToRows } from '@llm-prism/ingest';
import { scenarioHeaders, type Scenario } from '@llm-prism/simulator';
import { latencyBucketMs, openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatMessages, now, useWireHarness } from '../test/contract.ts';
import { endMs, finishedCalls, sleep, startMs } from '../test/harness.ts';
import { anchoredEpoch } from './stats.ts';
import { DEFAULT_TTFT_DEADLINE_MS, deadlineFromEnv, configuredDeadlineMs, TtftDeadline } from './ttft-deadline.ts';

/** The deadline of this file's instrumentation, and how long the simulator withholds the answer's first byte. */
const DEADLINE_MS = 300;
const HOLD_MS = 1_200;
/** How late a timer may fire on this shared machine (2 cores, several test runs). */
const TIMER_SLACK_MS = 150;

const h = useWireHarness({ ttftDeadlineMs: DEADLINE_MS });
let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
});
afterAll(async () => {
  await storage?.close();
});

let counter = 0;
/** A model name of its own per call: the rollup rows of one call, found by `Model`. */
const uniqueModel = (): string => `gpt-4o-hang-${process.pid}-${++counter}`;

const deadlineSpans = (): ReadableSpan[] => h.exporter.getFinishedSpans().filter((s) => s.name === 'llm.ttft_deadline');
const callSpans = (): ReadableSpan[] => h.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** A span's duration in ms as stored (`Duration`, ns, ÷ 1e6). */
const durationOf = (s: ReadableSpan): number => (s.duration[0] * 1e9 + s.duration[1]) / 1e6;

/** Spans through OTLP JSON and the ingest's conversion into otel_traces. */
async function store(spans: ReadableSpan[]): Promise<void> {
  const { rows, rejections } = otlpToRows(decodeJsonRequest(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans))));
  expect(rejections).toEqual([]);
  await storage.insertSpans(rows);
}

/** The rollup rows of one model: [bucket, Abandoned | Aborted, calls], and all its calls. */
async function rollup(table: 'llm_ttft_counts' | 'llm_completion_counts', model: string): Promise<{ rows: number[][]; calls: number }> {
  const [bucket, flag] = table === 'llm_ttft_counts' ? ['TtftBucketMs', 'Abandoned'] : ['DurationBucketMs', 'Aborted'];
  const query = async <T>(sql: string) =>
    (await (await storage.client.query({ query: sql, query_params: { model }, format: 'JSONEachRow' })).json()) as T[];
  const rows = await query<Record<string, number | string>>(
    `SELECT ${bucket} AS bucket, ${flag} AS flag, sum(Calls) AS calls FROM ${storage.database}.${table}
     WHERE Model = {model:String} GROUP BY bucket, flag ORDER BY bucket, flag`,
  );
  const [all] = await query<{ calls: string }>(`SELECT sum(Calls) AS calls FROM ${storage.database}.${table} WHERE Model = {model:String}`);
  return { rows: rows.map((r) => [Number(r.bucket), Number(r.flag), Number(r.calls)]), calls: Number(all?.calls ?? 0) };
}

describe('a call without output at its deadline', () => {
  it.each([
    { label: 'streamed, SDK call', stream: true },
    { label: 'not streamed, SDK call', stream: false },
  ])('$label: llm.ttft_deadline is exported at the deadline, while the call still waits; the call span is marked', async ({ stream }) => {
    const model = uniqueModel();
    const s: Scenario = { queueMs: HOLD_MS, chunks: 3, chunkIntervalMs: 10 };
    const started = now();
    const done = (async () => {
      if (!stream) return h.client.chat.completions.create({ model, messages: chatMessages() }, { headers: scenarioHeaders(s) });
      const chunks = await h.client.chat.completions.create({ model, messages: chatMessages(), stream: true }, { headers: scenarioHeaders(s) });
      for await (const _ of chunks) void _;
    })();

    await until(() => deadlineSpans().length > 0);
    const seenAt = now();
    // Reported while the call hangs: no call span yet, and well before the answer is due.
    expect(callSpans()).toEqual([]);
    expect(seenAt - started).toBeLessThan(HOLD_MS);
    const [report] = deadlineSpans() as [ReadableSpan];
    expect(report.kind).toBe(SpanKind.INTERNAL);
    expect(report.attributes).toEqual({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': model, 'gen_ai.request.stream': stream });
    // Reporting rollups read it; nothing may take it for a call (no gen_ai.operation.name).
    expect(durationOf(report)).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(durationOf(report)).toBeLessThan(DEADLINE_MS + TIMER_SLACK_MS);

    // While hanging, the report alone puts the call into both rollups as a wait without output.
    await store([report]);
    const ttftBucket = latencyBucketMs(durationOf(report));
    const whileHanging = {
      ttft: stream ? { rows: [[ttftBucket, 1, 1]], calls: 1 } : { rows: [], calls: 0 },
      completion: { rows: [[ttftBucket, 1, 1]], calls: 1 },
    };
    expect(await rollup('llm_ttft_counts', model)).toEqual(whileHanging.ttft);
    expect(await rollup('llm_completion_counts', model)).toEqual(whileHanging.completion);

    await done;
    const [call] = await finishedCalls(h.exporter, 1);
    await sleep(50);
    expect(deadlineSpans()).toHaveLength(1);
    expect(call!.attributes['llm.ttft_deadline_exceeded']).toBe(true);
    expect(report.parentSpanContext?.spanId).toBe(call!.spanContext().spanId);
    expect(report.spanContext().traceId).toBe(call!.spanContext().traceId);
    expect(startMs(report)).toBe(startMs(call!));
    expect(endMs(report)).toBeLessThan(endMs(call!));
    if (stream) expect(call!.attributes['llm.ttft_ms']).toBeGreaterThanOrEqual(HOLD_MS);

    // The whole trace stored (the report a second time, as an exporter retry would): the call still
    // counts once in each rollup, by its report; its own span, marked, is in llm_calls only.
    await store(h.exporter.getFinishedSpans());
    expect(await rollup('llm_ttft_counts', model)).toEqual(whileHanging.ttft);
    expect(await rollup('llm_completion_counts', model)).toEqual(whileHanging.completion);
    const stored = await storage.client.query({
      query: `SELECT count() AS n FROM ${storage.database}.llm_calls WHERE RequestModel = {model:String} AND TtftDeadlineExceeded = 1`,
      query_params: { model },
      format: 'JSONEachRow',
    });
    expect(Number((await stored.json<{ n: string }>())[0]!.n)).toBe(1);
  });

  it('a call recognised on the wire (plain fetch) reports too', async () => {
    const model = uniqueModel();
    const res = fetch(`${h.sim.openaiBaseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...scenarioHeaders({ queueMs: HOLD_MS, chunks: 2 }) },
      body: JSON.stringify({ model, messages: chatMessages(), stream: true }),
    });
    await until(() => deadlineSpans().length > 0);
    expect(callSpans()).toEqual([]);
    expect(deadlineSpans()[0]!.attributes['gen_ai.request.model']).toBe(model);
    await (await res).text();
    const [call] = await finishedCalls(h.exporter, 1);
    expect(call!.attributes['llm.ttft_deadline_exceeded']).toBe(true);
  });
});

describe('a call that does not hang', () => {
  it.each([
    { label: 'first chunk before the deadline, a long stream after it', s: { queueMs: 50, prefillMs: 50, chunks: 12, chunkIntervalMs: 50 } },
    { label: 'failed before any output', s: { httpErrors: { status: 503 as const, count: 1 } } },
  ])('$label: no llm.ttft_deadline, not even after the deadline has passed; the call span is not marked', async ({ s }) => {
    const stream = await h.client.chat.completions
      .create({ model: uniqueModel(), messages: chatMessages(), stream: true }, { headers: scenarioHeaders(s as Scenario), maxRetries: 0 })
      .catch((err: unknown) => err);
    if (Symbol.asyncIterator in (stream as object)) for await (const _ of stream as AsyncIterable<unknown>) void _;
    const [call] = await finishedCalls(h.exporter, 1);
    await sleep(DEADLINE_MS + TIMER_SLACK_MS);
    expect(deadlineSpans()).toEqual([]);
    expect(call!.attributes['llm.ttft_deadline_exceeded']).toBeUndefined();
  });
});


describe('the timer', () => {
  it('never keeps the process alive: a process with a call waiting on a 60 s deadline exits at once', async () => {
    const script = `
import { context, trace } from '@opentelemetry/api';
import { TtftDeadline } from './src/ttft-deadline.ts';
new TtftDeadline(60_000, { tracer: trace.getTracer('t'), callContext: context.active(), start: performance.now(), epoch: (t) => t, attributes: {} });
`;
    const started = performance.now();
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
      timeout: 30_000,
      env: { PATH: process.env.PATH },
    });
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('never throws into the application: a tracer that throws is logged (diag) and nothing is reported', async () => {
    const tracer = {
      startSpan() {
        throw new Error('tracer broken');
      },
    } as unknown as Tracer;
    const deadline = new TtftDeadline(20, { tracer, callContext: context.active(), start: performance.now(), epoch: anchoredEpoch(), attributes: {} });
    const logged: unknown[][] = [];
    diag.setLogger({ error() {}, warn() {}, info() {}, verbose() {}, debug: (...args: unknown[]) => logged.push(args) }, DiagLogLevel.ALL);
    try {
      await sleep(100);
    } finally {
      diag.disable();
    }
    expect(deadline.reported).toBe(false);
    expect(logged.map((l) => l[0])).toContain('llm-prism: reporting a call past its TTFT deadline failed');
  });
});

describe('configuration', () => {
  it('LLM_PRISM_TTFT_DEADLINE_MS: milliseconds, 0 turns the reports off; anything else is reported and the default used', () => {
    const warnings: string[] = [];
    diag.setLogger({ error() {}, warn: (m: string) => warnings.push(m), info() {}, verbose() {}, debug() {} }, DiagLogLevel.WARN);
    try {
      expect(deadlineFromEnv({})).toBe(DEFAULT_TTFT_DEADLINE_MS);
      expect(deadlineFromEnv({ LLM_PRISM_TTFT_DEADLINE_MS: ' 90000 ' })).toBe(90_000);
      expect(deadlineFromEnv({ LLM_PRISM_TTFT_DEADLINE_MS: '0' })).toBe(0);
      expect(warnings).toEqual([]);
      expect(deadlineFromEnv({ LLM_PRISM_TTFT_DEADLINE_MS: '90s' })).toBe(DEFAULT_TTFT_DEADLINE_MS);
      expect(deadlineFromEnv({ LLM_PRISM_TTFT_DEADLINE_MS: '-5' })).toBe(DEFAULT_TTFT_DEADLINE_MS);
      expect(warnings).toEqual([
        'llm-prism: LLM_PRISM_TTFT_DEADLINE_MS must be a number of milliseconds from 0 (off) to 2147483647, got "90s"; using 60000',
        'llm-prism: LLM_PRISM_TTFT_DEADLINE_MS must be a number of milliseconds from 0 (off) to 2147483647, got "-5"; using 60000',
      ]);
      // The option wins over the environment; an unusable option is reported once.
      expect(configuredDeadlineMs(undefined, 90_000)).toBe(90_000);
      expect(configuredDeadlineMs(5_000, 90_000)).toBe(5_000);
      expect(configuredDeadlineMs(0, 90_000)).toBe(0);
      warnings.length = 0;
      expect(configuredDeadlineMs(Number.NaN, 90_000)).toBe(DEFAULT_TTFT_DEADLINE_MS);
      expect(configuredDeadlineMs(Number.NaN, 90_000)).toBe(DEFAULT_TTFT_DEADLINE_MS);
      expect(warnings).toEqual(['llm-prism: ttftDeadlineMs must be a number of milliseconds from 0 (off) to 2147483647, got NaN; using 60000']);
    } finally {
      diag.disable();
    }
  });

  it('ttftDeadlineMs: 0 turns the reports off', async () => {
    h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), ttftDeadlineMs: 0 });
    try {
      const chunks = await h.client.chat.completions.create({ model: uniqueModel(), messages: chatMessages(), stream: true }, { headers: scenarioHeaders({ queueMs: DEADLINE_MS + 200, chunks: 2 }) });
      for await (const _ of chunks) void _;
      const [call] = await finishedCalls(h.exporter, 1);
      expect(deadlineSpans()).toEqual([]);
      expect(call!.attributes['llm.ttft_deadline_exceeded']).toBeUndefined();
    } finally {
      h.instrumentation.setConfig({ ...h.instrumentation.getConfig(), ttftDeadlineMs: DEADLINE_MS });
    }
  });
});
