export { collectReport, stepSeconds, type CollectOptions, type ReportData } from './collect.ts';
export { CHART_IDS, renderHtml } from './html.ts';
export { produceReport, type ReportOutputs } from './produce.ts';
export { sqlFor, type ReportScope } from './queries.ts';
export { firing, sloStatuses, type SloStatus } from './slo-status.ts';
export { formatTerminal } from './terminal.ts';
