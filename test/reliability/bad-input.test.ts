// Bad input: generated malformed, truncated, oversized and adversarial OTLP bodies against
// `llm-prism serve` (a child process, so a crash is seen as an exit). Every answer must be the
// allowed 4xx with a clear google.rpc.Status message (or 200, with partial_success where spans were
// rejected), never a 5xx; valid requests sent alongside must all be stored.
// `npm test` runs a few hundred cases with a fixed seed; `npm run test:reliability` runs thousands.
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  ALLOWED,
  buildRequest,
  CONTENT_TYPE,
  MAX_BODY_BYTES,
  MESSAGE,
  recipe,
  REJECTED_MESSAGE,
  sdkSpans,
  serialize,
  type Encoding,
  type Kind,
  type Recipe,
} from './bad-inputs.ts';
import { otlpMessage, post } from './http-post.ts';
import { freePort, startServe, stopServe, type ServeProcess } from '../../packages/cli/test/serve-process.ts';
import { report } from './tally.ts';

const RUNS = Number(process.env.LLM_PRISM_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.LLM_PRISM_FUZZ_SEED ?? 20261123);

let dataDir: string;
let serve: ServeProcess;
let storage: Storage | undefined;
beforeAll(async () => {
  dataDir = await tempDataDir();
  serve = await startServe({ dataDir, port: await freePort(), args: ['--max-body-bytes', String(MAX_BODY_BYTES)] });
});
afterAll(async () => {
  if (serve) await stopServe(serve);
  await storage?.close();
});

/** A recipe as short text (random bytes by length only). */
function summary(r: Recipe): string {
  return JSON.stringify(r, (key, value: unknown) => (key === 'bytes' && value instanceof Uint8Array ? `<${value.length} bytes>` : value));
}

test(`${RUNS} generated bad requests: 4xx with a clear message, no crash, valid requests still stored`, async () => {
  const base: Record<Encoding, Uint8Array> = {
    protobuf: serialize(sdkSpans('bad-input-base'), 'protobuf'),
    json: serialize(sdkSpans('bad-input-base'), 'json'),
  };
  const statuses: Partial<Record<Kind, Record<number, number>>> = {};
  const validTraceIds: string[] = [];
  const validStatuses: number[] = [];
  const hugeStored: number[] = [];
  let partialSuccesses = 0;
  let resetsBeforeAnswer = 0;
  let chunkedOversizedAnswered = 0;
  // Answers outside what the kind allows, or without a clear message: collected, so that the run
  // goes on and prints its figures, then asserted empty.
  const violations: { recipe: string; status: number; message: string }[] = [];
  let n = 0;

  // A valid export, sent while a bad one is in flight.
  const sendValid = async (enc: Encoding) => {
    const spans = sdkSpans('bad-input-valid');
    validTraceIds.push(spans[0]!.spanContext().traceId);
    const res = await post(`${serve.url}/v1/traces`, { 'content-type': CONTENT_TYPE[enc] }, serialize(spans, enc));
    validStatuses.push(res.status);
  };

  await fc.assert(
    fc.asyncProperty(recipe, async (r) => {
      const i = n++;
      const req = buildRequest(r, base);
      const valid = i % 4 === 0 ? sendValid(i % 8 === 0 ? 'protobuf' : 'json') : undefined;
      const res = await post(`${serve.url}/v1/traces`, req.headers, req.body, { holdBodyMs: req.holdBodyMs }).catch((err: NodeJS.ErrnoException) => {
        // Refusing a chunked body mid-read, ingest closes the connection at once; a client still
        // writing then sometimes gets EPIPE/ECONNRESET before it has read the 413 (the reset
        // discards the unread answer). Demonstrated on its own by oversized-answer.test.ts; here
        // counted and tolerated for that case only.
        if (r.kind === 'oversized' && r.streamed && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) return undefined;
        throw err;
      });
      if (!res) {
        resetsBeforeAnswer++;
        await valid;
        return;
      }
      if (r.kind === 'oversized' && r.streamed) chunkedOversizedAnswered++;
      const byStatus = (statuses[r.kind] ??= {});
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      await valid;

      const { message, rejected } = otlpMessage(res);
      if (!ALLOWED[r.kind].includes(res.status) || (res.status !== 200 && !MESSAGE[res.status]!.test(message))) {
        violations.push({ recipe: summary(r), status: res.status, message: message.slice(0, 200) });
      } else if (res.status === 200) {
        if (rejected > 0) {
          partialSuccesses++;
          if (!REJECTED_MESSAGE.test(message)) violations.push({ recipe: summary(r), status: 200, message });
        }
        if (r.kind === 'huge-attribute') hugeStored.push(r.chars);
      }
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );

  // Still up (a crash is an exit), never answered 5xx, never logged an unexpected error.
  const upAfterRun = serve.child.exitCode === null && (await fetch(`${serve.url}/healthz`)).status === 200;
  const metrics = await (await fetch(`${serve.url}/metrics`)).text();
  const answered5xx = [...metrics.matchAll(/^llm_prism_ingest_requests_total\{status="5\d\d"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  const unexpectedErrors = serve.stderr().split('unexpected error').length - 1;
  const exit = await stopServe(serve);

  storage = await openStorage({ dataDir });
  const q = async <T>(query: string, params: Record<string, unknown>) =>
    (await storage!.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
  const [stored] = await q<{ n: number }>(
    `SELECT uniqExact(TraceId) AS n FROM ${storage.database}.otel_traces WHERE ServiceName = 'bad-input-valid' AND has({ids:Array(String)}, TraceId)`,
    { ids: validTraceIds },
  );
  const huge = await q<{ len: number }>(
    `SELECT length(SpanAttributes['huge']) AS len FROM ${storage.database}.otel_traces WHERE ServiceName = 'bad-input-huge' AND SpanKind = 'Client' ORDER BY len`,
    {},
  );

  report('bad-input', {
    inputsTried: n,
    seed: SEED,
    statuses,
    partialSuccesses,
    chunkedOversizedAnswered,
    resetsBeforeAnswer,
    violations: violations.length,
    validSent: validTraceIds.length,
    validStored: Number(stored?.n),
    answered5xx,
    unexpectedErrors,
    crashes: upAfterRun ? 0 : 1,
  });
  expect(upAfterRun).toBe(true);
  expect(exit).toBe(0);
  expect(violations).toEqual([]);
  expect(answered5xx).toBe(0);
  expect(unexpectedErrors).toBe(0);
  expect(n).toBe(RUNS);
  // The chunked oversized path was really answered, not only reset.
  expect(chunkedOversizedAnswered).toBeGreaterThan(0);
  expect(validStatuses.every((s) => s === 200)).toBe(true);
  expect(Number(stored?.n)).toBe(validTraceIds.length);
  // Huge attribute values are stored whole.
  expect(huge.map((h) => Number(h.len))).toEqual(hugeStored.toSorted((a, b) => a - b));
}, 600_000); // bounded by the number of runs; 300 take about 25 s on a busy 2-core machine
