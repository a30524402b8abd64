export { ALERT_END, alertRuleFile, conditionExpression, RUNBOOK_ANCHOR, ruleWindows, type AlertRule, type AlertRuleFile } from './alerts.ts';
export {
  alertPolicy,
  conditionHolds,
  FOR_MINUTES,
  maxBurnRate,
  MIN_BURN_RATE,
  MIN_WINDOW_MINUTES,
  policyFigures,
  policyTable,
  policyWindows,
  type AlertPolicy,
  type BurnRateCondition,
  type PolicyRowFigures,
  type Severity,
} from './policy.ts';
export {
  CLICKHOUSE_PLUGIN_VERSION,
  ClickHouseQueryBuilder,
  chQuery,
  chTimeSeries,
  DATASOURCE_UID,
  Format,
  type ClickHouseQuery,
} from './clickhouse-query.ts';
export {
  DEFAULT_RUNBOOK_URL,
  DEFAULT_TTFT_DEADLINE_MS,
  configName,
  loadSloConfig,
  MAX_OBJECTIVE,
  objectivePercent,
  MIN_OBJECTIVE,
  parseSloConfig,
  SloConfigError,
  ttftDeadlineWarnings,
  validateSloConfig,
  WINDOW_SECONDS,
  type Objective,
  type ServiceSlo,
  type SloConfig,
  type SloKind,
} from './config.ts';
export { generateFiles, writeGenerated } from './generate.ts';
export { DASHBOARD_UID } from './dashboards/common.ts';
export { variableValues } from './dashboards/filters.ts';
export { tieredSource, type TieredRange } from './dashboards/hourly-tier.ts';
export { justAbove, policyRows, policyRowsSql } from './dashboards/slo-overview.ts';
export { CONTACT_POINTS, datasourceProvisioning, DEFAULT_DATASOURCE, notificationProvisioning, type DatasourceOptions } from './provisioning.ts';
export { ALL, expandMacros, type MacroContext } from './macros.ts';
export {
  budgetRemainingSql,
  burnColumn,
  burnDownSql,
  burnRatesSql,
  goodTotalSql,
  sliSeriesSql,
  sliSql,
  sloFilter,
  type BurnWindow,
  type SliTarget,
} from './sli-sql.ts';
export { evaluateMath, evaluateRule, forMs, nextState, type AlertState, type RuleEvaluation, type RunQuery } from './rule-eval.ts';
