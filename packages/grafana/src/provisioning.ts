// Grafana provisioning: the ClickHouse datasource (OTel trace mode on otel_traces), the provider
// that loads grafana/dashboards, and where page and ticket alerts go. Paths are those the docker/
// stack mounts.
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

/** Contact point names and the environment variables holding their webhook URLs. */
export const CONTACT_POINTS = {
  page: { name: 'llm-prism-page', urlEnv: 'LLM_PRISM_PAGE_WEBHOOK_URL' },
  ticket: { name: 'llm-prism-ticket', urlEnv: 'LLM_PRISM_TICKET_WEBHOOK_URL' },
} as const;

/**
 * Contact points and the notification policy tree, routed on the rules' `severity` label: pages
 * notify fast and repeat hourly, tickets wait, batch and repeat daily. Webhooks, so any pager or
 * ticket system with an incoming webhook (PagerDuty Events, Opsgenie, Jira automation…) fits; the
 * payload carries every label and annotation, runbook_url included. Grafana expands the `${…}`
 * URLs from the environment. Provisioning a policy tree replaces the organisation's whole tree.
 */
export function notificationProvisioning() {
  const webhook = (severity: keyof typeof CONTACT_POINTS) => ({
    orgId: 1,
    name: CONTACT_POINTS[severity].name,
    receivers: [
      {
        uid: CONTACT_POINTS[severity].name,
        type: 'webhook',
        settings: { url: `\${${CONTACT_POINTS[severity].urlEnv}}`, httpMethod: 'POST' },
        disableResolveMessage: false,
      },
    ],
  });
  return {
    apiVersion: 1,
    contactPoints: [webhook('page'), webhook('ticket')],
    policies: [
      {
        orgId: 1,
        // Alerts without a severity label (not LLM Prism's) go to the ticket queue rather than nowhere.
        receiver: CONTACT_POINTS.ticket.name,
        group_by: ['grafana_folder', 'alertname', 'slo'],
        routes: [
          {
            receiver: CONTACT_POINTS.page.name,
            object_matchers: [['severity', '=', 'page']],
            group_wait: '30s',
            group_interval: '5m',
            repeat_interval: '1h',
          },
          {
            receiver: CONTACT_POINTS.ticket.name,
            object_matchers: [['severity', '=', 'ticket']],
            group_wait: '5m',
            group_interval: '30m',
            repeat_interval: '24h',
          },
        ],
      },
    ],
  };
}
