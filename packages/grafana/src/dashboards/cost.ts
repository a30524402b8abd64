// Cost: what the calls cost per service and model, what failures wasted by cause, the most
// expensive conversations and what a stable system prompt would save. Every figure is a query of
// @llm-prism/storage cost.ts — the report runs the same ones (docs/cost.md). Whole hours of the
// range are priced from the llm_cost_hours rollup, the partial hours at its edges from llm_calls
// (hourly-tier.ts).
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { costSql, type CostScope, LLM_CALLS, LLM_DUPLICATE_CALLS, type ModelPrice } from '@llm-prism/storage';
import { chQuery, chTimeSeries } from '../clickhouse-query.ts';
import { baseDashboard, CALL_FILTER, DASHBOARD_UID, modelVariable, panelIds, seriesPanel, serviceVariable, tablePanel, unitOf } from './common.ts';
import { tieredSource } from './hourly-tier.ts';

const USD = 'currencyUSD';

/** The dashboard's range and filters; spend over time as USD per hour (the bucket is `$__interval_s` long), so zooming does not change it. */
const scope = (db: string, series: boolean): CostScope => ({
  calls: `${db}.${LLM_CALLS}`,
  duplicates: `${db}.${LLM_DUPLICATE_CALLS}`,
  where: `$__timeFilter(Timestamp) AND ${CALL_FILTER}`,
  tiered: (q) => tieredSource(db, q),
  ...(series ? { series: { bucket: '$__timeInterval(Timestamp)', perHour: '3600 / $__interval_s' } } : {}),
});

export const costSeriesSql = (db: string, prices: readonly ModelPrice[]) => costSql(prices, scope(db, true)).costSeries;

export const wasteSeriesSql = (db: string, prices: readonly ModelPrice[]) => costSql(prices, scope(db, true)).wasteSeries;

export function costDashboard(db: string, prices: readonly ModelPrice[]): dashboard.Dashboard {
  const nextId = panelIds();
  const sql = costSql(prices, scope(db, false));
  const money = (columns: string[]) => columns.map((c) => ({ matcher: c, unit: USD }));
  const table = (title: string, description: string, query: string, usdColumns: string[], span: number) => {
    let panel = tablePanel(nextId(), title).description(description).withTarget(chQuery(query)).unit('none').height(8).span(span);
    for (const { matcher, unit } of money(usdColumns)) panel = panel.overrideByName(matcher, [unitOf(unit)]);
    return panel;
  };
  return baseDashboard(DASHBOARD_UID.cost, 'LLM Prism — cost', 'What each call costs and what cache misses, truncations, errors and duplicates waste, from the price table at query time.')
    .withVariable(serviceVariable(db))
    .withVariable(modelVariable(db))
    .withPanel(
      seriesPanel(nextId(), 'Cost per service and model — USD per hour', USD)
        .description('Spend as USD per hour, from the recorded tokens and the price table (docs/cost.md). Unpriced calls are left out, never counted as free: see the table below.')
        .withTarget(chTimeSeries(costSeriesSql(db, prices)))
        .height(8)
        .span(12),
    )
    .withPanel(
      seriesPanel(nextId(), 'Waste by cause — USD per hour', USD)
        .description('USD per hour wasted: errored and truncated calls and duplicates at their cost, cache misses at what they paid above a cache read.')
        .withTarget(chTimeSeries(wasteSeriesSql(db, prices)))
        .height(8)
        .span(12),
    )
    .withPanel(table('Cost by service and model', 'Calls, unpriced calls (no price for their model or a token class they used) and USD in the time range.', sql.byModel, ['cost_usd'], 8))
    .withPanel(table('Waste by cause', 'Each wasting call under its first cause: error, truncated, duplicate, cache_miss (docs/cost.md).', sql.waste, ['waste_usd'], 8))
    .withPanel(table('Savings of a stable system prompt', 'What the cache misses whose prefix changed at the system prompt paid above a cache read: the saving of a prefix fix.', sql.prefixFix, ['savings_usd'], 8))
    .withPanel(table('Cache-miss waste by reason', 'What misses paid above reading the same prefix from the cache, by miss reason and first diverging segment.', sql.missWaste, ['waste_usd'], 8))
    .withPanel(table('Most expensive conversations', 'USD per gen_ai.conversation.id in the time range.', sql.conversations, ['cost_usd'], 8))
    .withPanel(table('Failed attempts before an answer (not billed)', '429s, 5xx and connection failures the SDK retried: no answer, so no tokens billed (docs/cost.md).', sql.retries, [], 8))
    .build();
}
