// A report without an SLO config has every section but the SLOs; this is what it tells the reader.

/**
 * What to tell someone whose report has no SLO section because no SLO config exists: one line,
 * naming the file to create.
 */
export function noSloConfigHint(path = 'llm-prism.slo.yaml'): string {
  return `No SLO config (${path} not found), so this report has no SLO section. To add TTFT and completion SLOs, create ${path} — format and example in docs/slo.md of LLM Prism — or pass --config <file>.`;
}
