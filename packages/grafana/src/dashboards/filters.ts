// The dashboards' $service / $model filters, on llm_calls (and its rollups) and on otel_traces.

/**
 * WHERE fragment on llm_calls honouring $service / $model ("All" drops the condition). The values
 * go in with Grafana's `singlequote` format: the plugin's own quotes them without escaping, so a
 * name with a quote in it (or a typed custom value) would break the query.
 */
export const CALL_FILTER =
  '$__conditionalAll(ServiceName IN (${service:singlequote}), $service) AND $__conditionalAll(RequestModel IN (${model:singlequote}), $model)';

/** The same filter on otel_traces, whose model lives in the attribute map. */
export const SPAN_FILTER =
  "$__conditionalAll(ServiceName IN (${service:singlequote}), $service) AND $__conditionalAll(SpanAttributes['gen_ai.request.model'] IN (${model:singlequote}), $model)";
