export { ALERT_POLICY, alertRuleFile, conditionExpression, type AlertRule, type AlertRuleFile, type Severity } from './alerts.ts';
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
  loadSloConfig,
  parseSloConfig,
  SloConfigError,
  validateSloConfig,
  WINDOW_SECONDS,
  type Objective,
  type ServiceSlo,
  type SloConfig,
  type SloKind,
} from './config.ts';
export { generateFiles, writeGenerated } from './generate.ts';
export { DASHBOARD_UID } from './dashboards/common.ts';
export { datasourceProvisioning, DEFAULT_DATASOURCE, type DatasourceOptions } from './provisioning.ts';
export { ALL, expandMacros, type MacroContext } from './macros.ts';
export {
  BURN_WINDOWS,
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
