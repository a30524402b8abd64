// The insert-latency histogram against an injected storage delay, and the batch-size histogram
// against the batches actually inserted (real chDB behind the delay).
import { openStorage, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import { otelTraceRow, tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { GroupCommit } from './group-commit.ts';
import { IngestMetrics } from './metrics.ts';
import { randomSpanId, randomTraceId } from '../test/requests.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
});
afterAll(async () => {
  await storage?.close();
});

const DELAY_MS = 300;

function rows(n: number): OtelTraceRow[] {
  const traceId = randomTraceId();
  return Array.from({ length: n }, () => otelTraceRow({ Timestamp: '2026-11-23 12:00:00.000000000', TraceId: traceId, SpanId: randomSpanId() }));
}

async function histogram(metrics: IngestMetrics, name: string) {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)!;
  const values = metric.values as { metricName?: string; value: number; labels: Record<string, string | number> }[];
  const pick = (suffix: string) => values.filter((v) => v.metricName === `${name}_${suffix}`);
  return { sum: pick('sum')[0]!.value, count: pick('count')[0]!.value, buckets: pick('bucket') };
}

test('insert latency and batch sizes match what happened', async () => {
  let commit!: GroupCommit;
  const metrics = new IngestMetrics(() => commit.queuedRows);
  /** How long each insert took, measured around the sink: the truth the metric must report. */
  const took: number[] = [];
  commit = new GroupCommit({
    sink: {
      async insertSpans(batch) {
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, DELAY_MS));
        await storage.insertSpans(batch);
        took.push(performance.now() - t0);
      },
    },
    onInsert: (n, seconds, error) => metrics.observeInsert(n, seconds, error),
  });
  // One request alone, then three that queue behind it and share the second insert.
  const first = commit.submit(rows(7));
  const queued = [commit.submit(rows(10)), commit.submit(rows(20)), commit.submit(rows(30))];
  expect((await metrics.registry.getSingleMetricAsString('llm_prism_ingest_queue_rows')).trim().split('\n').at(-1)).toBe(
    'llm_prism_ingest_queue_rows 60',
  );
  await Promise.all([first, ...queued]);

  const latency = await histogram(metrics, 'llm_prism_ingest_insert_duration_seconds');
  expect(latency.count).toBe(2);
  const meanMs = (latency.sum / latency.count) * 1000;
  // Never below the injected delay, and what the sink took (the metric also holds the call's own
  // scheduling: a few ms at most).
  const tookMs = (took[0]! + took[1]!) / 2;
  expect(meanMs).toBeGreaterThanOrEqual(DELAY_MS - 1);
  expect(meanMs).toBeGreaterThanOrEqual(tookMs - 1);
  expect(meanMs).toBeLessThan(tookMs + 10);
  // Each insert in the bucket of what it took, none below the delay's.
  const le = (bound: number) => latency.buckets.find((b) => b.labels.le === bound && b.labels.result === 'ok')!.value;
  expect(le(0.25)).toBe(0);
  expect(le(0.5)).toBe(took.filter((ms) => ms <= 500).length);
  expect(le(1)).toBe(took.filter((ms) => ms <= 1000).length);

  const batches = await histogram(metrics, 'llm_prism_ingest_batch_rows');
  expect(batches.count).toBe(2);
  expect(batches.sum).toBe(67);
  expect(batches.buckets.find((b) => b.labels.le === 10)!.value).toBe(1); // the 7-row insert
  expect(batches.buckets.find((b) => b.labels.le === 100)!.value).toBe(2); // and the 60-row one
});
