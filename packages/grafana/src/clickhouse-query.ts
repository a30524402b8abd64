// The grafana-clickhouse-datasource query model as a foundation-SDK builder; the SDK ships none.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';

export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';
export const DATASOURCE_UID = 'llm-prism-clickhouse';
/**
 * The plugin version the queries are written for (docker/docker-compose.yml installs it), recorded
 * in each query's `pluginVersion` as the plugin's editor does, so later plugin versions can migrate them.
 */
export const CLICKHOUSE_PLUGIN_VERSION = '4.20.0';

/** Plugin format codes: 0 time series, 1 table, 2 logs, 3 trace. */
export const Format = { TimeSeries: 0, Table: 1, Logs: 2, Trace: 3 } as const;
export type FormatCode = (typeof Format)[keyof typeof Format];
export type QueryType = 'table' | 'timeseries' | 'logs' | 'traces';

const QUERY_TYPE: Record<FormatCode, QueryType> = { 0: 'timeseries', 1: 'table', 2: 'logs', 3: 'traces' };

export interface ClickHouseQuery extends cog.Dataquery {
  refId: string;
  datasource: common.DataSourceRef;
  editorType: 'sql';
  rawSql: string;
  format: FormatCode;
  queryType: QueryType;
  pluginVersion: string;
}

export const clickhouseDatasource = (): common.DataSourceRef => ({ type: CLICKHOUSE_PLUGIN, uid: DATASOURCE_UID });

export class ClickHouseQueryBuilder implements cog.Builder<ClickHouseQuery> {
  #query: ClickHouseQuery;

  constructor(rawSql: string) {
    this.#query = {
      _implementsDataqueryVariant: () => {},
      refId: 'A',
      datasource: clickhouseDatasource(),
      editorType: 'sql',
      rawSql,
      format: Format.Table,
      queryType: 'table',
      pluginVersion: CLICKHOUSE_PLUGIN_VERSION,
    };
  }

  refId(refId: string): this {
    this.#query.refId = refId;
    return this;
  }

  /** Sets format and the matching queryType. */
  format(format: FormatCode): this {
    this.#query.format = format;
    this.#query.queryType = QUERY_TYPE[format];
    return this;
  }

  datasource(ref: common.DataSourceRef): this {
    this.#query.datasource = ref;
    return this;
  }

  build(): ClickHouseQuery {
    return { ...this.#query, datasource: { ...this.#query.datasource } };
  }
}

export const chQuery = (rawSql: string) => new ClickHouseQueryBuilder(rawSql);
export const chTimeSeries = (rawSql: string) => new ClickHouseQueryBuilder(rawSql).format(Format.TimeSeries);
