// What reached ClickHouse, compared with what the clients were told: lost, duplicated, and how
// the derived tables counted the LLM calls.
import type { Storage } from '@llm-prism/storage';
import type { Ledger } from './load-clients.ts';

export interface Tally {
  created: number;
  exported: number;
  acked: number;
  /** Distinct span ids of the clients' spans found in otel_traces. */
  stored: number;
  /** Acknowledged, yet not in otel_traces. */
  lostAcked: number;
  /** Span ids stored more than once in otel_traces. */
  duplicated: number;
  /** Never acknowledged (the exporter gave up, or never got to send them), yet stored. */
  unackedStored: number;
  /** Never acknowledged and not stored. */
  unackedLost: number;
  /** LLM call spans among the stored ones, and how llm_calls and the rollups count them (no FINAL: each call is stored once). */
  callsStored: number;
  llmCalls: number;
  ttftRollup: number;
  completionRollup: number;
}

async function rows<T>(storage: Storage, query: string, params: Record<string, unknown>): Promise<T[]> {
  const result = await storage.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

/** Counts the rows of services whose name starts with `servicePrefix`. */
export async function tally(storage: Storage, ledger: Ledger, servicePrefix: string): Promise<Tally> {
  const db = storage.database;
  const p = { p: servicePrefix };
  const stored = new Map<string, number>();
  for (const row of await rows<{ id: string; n: number }>(
    storage,
    `SELECT SpanId AS id, count() AS n FROM ${db}.otel_traces WHERE startsWith(ServiceName, {p:String}) GROUP BY SpanId`,
    p,
  )) {
    stored.set(row.id, Number(row.n));
  }
  const one = async (query: string) => Number((await rows<{ n: number }>(storage, query, p))[0]?.n ?? 0);
  const unacked = [...ledger.created].filter((id) => !ledger.acked.has(id));
  return {
    created: ledger.created.size,
    exported: ledger.exported.size,
    acked: ledger.acked.size,
    stored: [...ledger.created].filter((id) => stored.has(id)).length,
    lostAcked: [...ledger.acked].filter((id) => !stored.has(id)).length,
    duplicated: [...stored.values()].filter((n) => n > 1).length,
    unackedStored: unacked.filter((id) => stored.has(id)).length,
    unackedLost: unacked.filter((id) => !stored.has(id)).length,
    callsStored: [...ledger.calls].filter((id) => stored.has(id)).length,
    llmCalls: await one(`SELECT count() AS n FROM ${db}.llm_calls WHERE startsWith(ServiceName, {p:String})`),
    ttftRollup: await one(`SELECT sum(Calls) AS n FROM ${db}.llm_ttft_counts WHERE startsWith(ServiceName, {p:String})`),
    completionRollup: await one(`SELECT sum(Calls) AS n FROM ${db}.llm_completion_counts WHERE startsWith(ServiceName, {p:String})`),
  };
}

/** One line per figure set, greppable in the test output: `[reliability] <name> {…}`. */
export function report(name: string, figures: object): void {
  console.log(`[reliability] ${name} ${JSON.stringify(figures)}`);
}

/**
 * Successful inserts into otel_traces by duration, from ingest's /metrics text: cumulative counts
 * per bucket (seconds, `+Inf` = all). Group commit inserts one batch at a time, so a slow insert
 * is what a slow answer to any client waited on.
 */
export function insertDurations(metrics: string): Record<string, number> {
  const buckets = metrics.matchAll(/^llm_prism_ingest_insert_duration_seconds_bucket\{le="([^"]+)",result="ok"\} (\d+)/gm);
  return Object.fromEntries([...buckets].map((m) => [m[1]!, Number(m[2])]));
}
