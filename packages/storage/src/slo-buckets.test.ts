import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStorage, type Storage } from './storage.ts';
import { bucketBoundaries, isBucketBoundary, latencyBucketMs, latencyBucketSql, OVERFLOW_BUCKET_MS } from './slo-buckets.ts';
import { tempDataDir } from './testing.ts';

describe('latencyBucketMs', () => {
  test.each([
    [0, 10],
    [-5, 10],
    [0.001, 10],
    [10, 10],
    [10.0001, 20],
    [1234, 1240],
    [2000, 2000],
    [2000.5, 2100],
    [2001, 2100],
    [29_999.9, 30_000],
    [30_000, 30_000],
    [30_001, 31_000],
    [299_000.5, 300_000],
    [300_000, 300_000],
    [300_000.01, OVERFLOW_BUCKET_MS],
    [1e12, OVERFLOW_BUCKET_MS],
    [Number.NaN, OVERFLOW_BUCKET_MS],
    [null, OVERFLOW_BUCKET_MS],
  ])('%s ms → bucket %s', (ms, bucket) => {
    expect(latencyBucketMs(ms)).toBe(bucket);
  });

  test('the grid: 10 ms steps to 2 s, 100 ms to 30 s, 1 s to 300 s', () => {
    const bounds = bucketBoundaries();
    expect(bounds).toHaveLength(200 + 280 + 270);
    expect(bounds.slice(0, 3)).toEqual([10, 20, 30]);
    expect(bounds.slice(199, 202)).toEqual([2000, 2100, 2200]);
    expect(bounds.slice(479, 482)).toEqual([30_000, 31_000, 32_000]);
    expect(bounds.at(-1)).toBe(300_000);
    expect(bounds.every((b) => isBucketBoundary(b))).toBe(true);
    expect([5, 15, 2050, 30_500, 300_001, OVERFLOW_BUCKET_MS].some((t) => isBucketBoundary(t))).toBe(false);
  });

  test('a threshold on the grid is exact: latency <= T iff bucket <= T', () => {
    const latencies = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 320_000 + (i % 7) / 7);
    for (const threshold of [10, 250, 2000, 2100, 5000, 30_000, 45_000, 300_000]) {
      for (const ms of latencies) expect(latencyBucketMs(ms) <= threshold).toBe(ms <= threshold);
    }
  });
});

describe('latencyBucketSql agrees with latencyBucketMs in ClickHouse', () => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await openStorage({ dataDir: await tempDataDir() });
  });
  afterAll(async () => {
    await storage.close();
  });

  test('on every grid point, its neighbours, random values and the specials', async () => {
    const values = bucketBoundaries().flatMap((b) => [b - 0.5, b - 1e-6, b, b + 1e-6, b + 0.5]);
    let seed = 42; // deterministic pseudo-random latencies spread over the grid and beyond
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      values.push((seed / 2 ** 31) * 400_000);
    }
    values.push(0, -3, 300_000.0001, 1e15);
    const result = await storage.client.query({
      query: `SELECT x, ${latencyBucketSql('x')} AS bucket FROM (SELECT arrayJoin({values:Array(Float64)}) AS x)`,
      query_params: { values },
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ x: number; bucket: number }>();
    expect(rows).toHaveLength(values.length);
    const mismatches = rows.filter((r) => latencyBucketMs(r.x) !== Number(r.bucket));
    expect(mismatches).toEqual([]);
  });

  test('NULL and NaN go to the overflow bucket, in a Nullable column too', async () => {
    const result = await storage.client.query({
      query: `SELECT ${latencyBucketSql('x')} AS bucket FROM (SELECT arrayJoin([CAST(NULL, 'Nullable(Float64)'), nan, 12.5]) AS x)`,
      format: 'JSONEachRow',
    });
    expect((await result.json<{ bucket: number }>()).map((r) => Number(r.bucket))).toEqual([
      OVERFLOW_BUCKET_MS,
      OVERFLOW_BUCKET_MS,
      20,
    ]);
  });
});
