// The dashboards' $service / $model filters, on llm_calls (and its rollups) and on otel_traces.

/** WHERE fragment on llm_calls honouring $service / $model ("All" drops the condition). */
export const CALL_FILTER =
  '$__conditionalAll(ServiceName IN (${service}), $service) AND $__conditionalAll(RequestModel IN (${model}), $model)';

/** The same filter on otel_traces, whose model lives in the attribute map. */
export const SPAN_FILTER =
  "$__conditionalAll(ServiceName IN (${service}), $service) AND $__conditionalAll(SpanAttributes['gen_ai.request.model'] IN (${model}), $model)";
