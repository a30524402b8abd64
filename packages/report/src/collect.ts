// Gathers everything the terminal, HTML and JSON reports show, in one JSON-ready object.
import type { ClickHouseClient } from '@clickhouse/client';
import type { SloConfig } from '@llm-prism/grafana';
import { type ModelPrice, PRICE_TABLE } from '@llm-prism/storage';
import {
  costSqlFor,
  rows,
  scopeParams,
  sqlFor,
  type AnatomyRow,
  type AttemptWasteRow,
  type ConversationCostRow,
  type CostByModelRow,
  type MissWasteRow,
  type WasteRow,
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
  cost: CostSection;
}

/** What the calls cost and what their failures wasted, in USD (docs/cost.md). */
export interface CostSection {
  /** Sum over priced calls; null when none is priced. */
  total_usd: number | null;
  unpriced_calls: number;
  by_model: CostByModelRow[];
  waste: WasteRow[];
  miss_waste: MissWasteRow[];
  /** Cache-miss waste of prefix_changed misses breaking at the system prompt: what fixing that prefix saves. */
  prefix_fix_savings_usd: number | null;
  /** Failed attempts before an answer (429s, 5xx, connection failures): counted, billed nothing. */
  attempts: AttemptWasteRow & { billed_usd: 0 };
  conversations: ConversationCostRow[];
  /** Rows of the config's `prices:` that replace or extend the shipped table (0: the table as shipped). */
  config_price_rows: number;
}

export interface CollectOptions extends ReportScope {
  client: ClickHouseClient;
  /** Database holding llm_calls (the client's default database is not assumed). */
  database: string;
  /** The SLOs to evaluate; without one the report has no SLO section (`slos: null`). */
  config?: SloConfig | undefined;
  slowest?: number;
}

const sumOrNull = (values: (number | null)[]): number | null =>
  values.some((v) => v !== null) ? values.reduce<number>((s, v) => s + (v ?? 0), 0) : null;

async function collectCost(run: <T>(query: string) => Promise<T[]>, database: string, prices: readonly ModelPrice[]): Promise<CostSection> {
  const sql = costSqlFor(database, prices);
  const byModel = await run<CostByModelRow>(sql.byModel);
  const missWaste = await run<MissWasteRow>(sql.missWaste);
  const [attempts] = await run<AttemptWasteRow>(sql.retries);
  return {
    // No call costs 0; null only when every call is unpriced.
    total_usd: byModel.length === 0 ? 0 : sumOrNull(byModel.map((r) => r.cost_usd)),
    unpriced_calls: byModel.reduce((n, r) => n + r.unpriced_calls, 0),
    by_model: byModel,
    waste: await run<WasteRow>(sql.waste),
    miss_waste: missWaste,
    prefix_fix_savings_usd: (await run<{ savings_usd: number | null }>(sql.prefixFix))[0]?.savings_usd ?? null,
    attempts: { failed_attempts: attempts?.failed_attempts ?? 0, rate_limited_attempts: attempts?.rate_limited_attempts ?? 0, retried_calls: attempts?.retried_calls ?? 0, billed_usd: 0 },
    conversations: await run<ConversationCostRow>(sql.conversations),
    config_price_rows: prices.filter((p) => !PRICE_TABLE.includes(p)).length,
  };
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
    cost: await collectCost(run, o.database, o.config?.prices ?? PRICE_TABLE),
  };
}
