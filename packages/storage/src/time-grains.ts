// The grains rollups keep time at: whole hours serve long ranges and hourly buckets, whole minutes
// the buckets of a few minutes that ranges of a day or a week get (docs/clickhouse.md, "Minute
// rollups"). Both start where the Grafana plugin's `$__timeInterval` puts a bucket boundary.

export interface TimeGrain {
  /** The rollup's time column. */
  column: 'Hour' | 'Minute';
  seconds: 3600 | 60;
}

export const HOUR_GRAIN: TimeGrain = { column: 'Hour', seconds: 3600 };
export const MINUTE_GRAIN: TimeGrain = { column: 'Minute', seconds: 60 };

/** The start of a timestamp's grain, epoch-aligned whatever the server's time zone (as `$__timeInterval`). */
export const startOfGrain = (grain: TimeGrain, timestamp: string): string => `toStartOfInterval(toDateTime(${timestamp}), INTERVAL ${grain.seconds} second)`;
