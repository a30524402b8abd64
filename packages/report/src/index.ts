export { collectReport, stepSeconds, type CollectOptions, type CostSection, type ReportData } from './collect.ts';
export { CHART_IDS, renderHtml, SLO_CHART_IDS } from './html.ts';
export { noSloConfigHint } from './no-slo-config.ts';
export { produceReport, type ReportOutputs } from './produce.ts';
export { sqlFor, type ReportScope } from './queries.ts';
export { sloStatuses, type PolicyRowStatus, type SloStatus } from './slo-status.ts';
export { formatTerminal, usd } from './terminal.ts';
