// The dashboards' $service / $model filters, on llm_calls (and its rollups) and on otel_traces.

/**
 * The values of a template variable as an SQL expression: an array for a multi-value one, one
 * string for a textbox (`single`). No Grafana format quotes a value for ClickHouse: `singlequote`
 * and `sqlstring` leave a backslash as it is, and ClickHouse reads one in a string literal as an
 * escape, so a name such as `DOMAIN\svc` broke the query or matched nothing. `queryparam` percent-
 * encodes each value (`var-service=a%5Cb&var-service=c`: only letters, digits and `-_.~@:$,;%=&`
 * remain), and ClickHouse decodes them.
 */
export function variableValues(name: string, single = false): string {
  const values = `arrayMap(p -> decodeURLComponent(splitByChar('=', p)[2]), splitByChar('&', '\${${name}:queryparam}'))`;
  return single ? `${values}[1]` : values;
}

/**
 * WHERE fragment on llm_calls (and its rollups) honouring $service / $model ("All" drops the
 * condition). `has`, not `IN`: the old analyzer takes no computed array as the set of an `IN`.
 */
export const CALL_FILTER = `$__conditionalAll(has(${variableValues('service')}, ServiceName), $service) AND $__conditionalAll(has(${variableValues('model')}, RequestModel), $model)`;

/** The same filter on otel_traces, whose model lives in the attribute map. */
export const SPAN_FILTER = `$__conditionalAll(has(${variableValues('service')}, ServiceName), $service) AND $__conditionalAll(has(${variableValues('model')}, SpanAttributes['gen_ai.request.model']), $model)`;
