// A report without an SLO config has every section but the SLOs; this is what it tells the reader.

/**
 * What to tell someone whose report has no SLO section because no SLO config exists: one line,
 * naming the file to create.
 */
export function noSloConfigHint(path = 'llm-prism.slo.yaml'): string {
  return `No SLO config (${path} not found), so this report has no SLO section. To add TTFT and completion SLOs, create ${path} — format and example in docs/slo.md of LLM Prism — or pass --config <file>.`;
}

/** What a report says when its SLO config has no SLO for its scope (no `slos:`, or none for the service asked for). */
export const NO_SLO_IN_SCOPE = 'No SLO of the config covers this scope (it has no slos:, or none for this service), so this report has no SLO section.';
