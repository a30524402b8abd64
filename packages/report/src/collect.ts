// Gathers everything the terminal, HTML and JSON reports show, in one JSON-ready object.
import type { ClickHouseClient } from '@clickhouse/client';
import type { SloConfig } from '@llm-prism/grafana';
import {
  rows,
  scopeParams,
  sqlFor,
  type AnatomyRow,
  type CacheRow,
  type MissRow,
  type OutcomeRow,
  type ReportScope,
  type RetryRow,
  type SlowCallRow,
} from './queries.ts';
import { sloStatuses, type SloStatus } from './slo-status.ts';

export interface ReportData {
  generatedAt: string;
  scope: { from: string; to: string; service?: string };
  /**
   * Per SLO × SLI status. `null` when the report ran without an SLO config (no section computed,
   * nothing inferred); `[]` when the config holds no SLO for the scope's service.
   */
  slos: SloStatus[] | null;
  anatomy: AnatomyRow[];
  cache: CacheRow[];
  misses: MissRow[];
  outcomes: OutcomeRow[];
  retries: RetryRow[];
  slowest: SlowCallRow[];
}

export interface CollectOptions extends ReportScope {
  client: ClickHouseClient;
  /** Database holding llm_calls (the client's default database is not assumed). */
  database: string;
  /** The SLOs to evaluate; without one the report has no SLO section (`slos: null`). */
  config?: SloConfig | undefined;
  slowest?: number;
}

/** Chart steps: about 60 points across the scope, never finer than the rollups' minute. */
export function stepSeconds(fromMs: number, toMs: number): number {
  return Math.max(60, Math.ceil((toMs - fromMs) / 1000 / 60 / 60) * 60);
}

export async function collectReport(o: CollectOptions): Promise<ReportData> {
  const params = { ...scopeParams(o), limit: o.slowest ?? 10 };
  const sql = sqlFor(o.database);
  const run = <T>(query: string) => rows<T>(o.client, query, params);
  const slos = o.config
    ? await sloStatuses(o.client, o.config, o.to, Math.ceil((o.to - o.from) / 1000), stepSeconds(o.from, o.to))
    : null;
  return {
    generatedAt: new Date().toISOString(),
    scope: { from: new Date(o.from).toISOString(), to: new Date(o.to).toISOString(), ...(o.service ? { service: o.service } : {}) },
    slos: slos && o.service ? slos.filter((s) => s.service === o.service) : slos,
    anatomy: await run<AnatomyRow>(sql.anatomy),
    cache: await run<CacheRow>(sql.cache),
    misses: await run<MissRow>(sql.misses),
    outcomes: await run<OutcomeRow>(sql.outcomes),
    retries: await run<RetryRow>(sql.retries),
    slowest: await run<SlowCallRow>(sql.slowest),
  };
}
