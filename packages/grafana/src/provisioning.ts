// Grafana provisioning: the ClickHouse datasource (OTel trace mode on otel_traces) and the provider
// that loads grafana/dashboards. Paths are those the docker/ stack mounts.
import { CLICKHOUSE_PLUGIN, DATASOURCE_UID } from './clickhouse-query.ts';

export interface DatasourceOptions {
  host: string;
  port: number;
  protocol: 'http' | 'native';
  username: string;
  database: string;
  /** Environment variable holding the password; Grafana expands it at provisioning time. */
  passwordEnv: string;
}

export const DEFAULT_DATASOURCE: DatasourceOptions = {
  host: 'clickhouse',
  port: 8123,
  protocol: 'http',
  username: 'default',
  database: 'otel',
  passwordEnv: 'CLICKHOUSE_PASSWORD',
};

/** Where the compose file mounts grafana/dashboards inside the Grafana container. */
export const DASHBOARDS_MOUNT = '/var/lib/grafana/dashboards';

export function datasourceProvisioning(o: DatasourceOptions = DEFAULT_DATASOURCE) {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'ClickHouse (LLM Prism)',
        uid: DATASOURCE_UID,
        type: CLICKHOUSE_PLUGIN,
        isDefault: true,
        editable: false,
        jsonData: {
          host: o.host,
          port: o.port,
          protocol: o.protocol,
          username: o.username,
          defaultDatabase: o.database,
          traces: {
            defaultDatabase: o.database,
            defaultTable: 'otel_traces',
            otelEnabled: true,
            otelVersion: 'latest',
            durationUnit: 'nanoseconds',
          },
        },
        secureJsonData: { password: `\${${o.passwordEnv}}` },
      },
    ],
  };
}

export function dashboardProvisioning() {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'llm-prism',
        orgId: 1,
        folder: 'LLM Prism',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: DASHBOARDS_MOUNT, foldersFromFilesStructure: false },
      },
    ],
  };
}
