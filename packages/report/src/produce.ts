// Collect once, then write the report where asked: terminal text or JSON, and optionally HTML.
import { writeFile } from 'node:fs/promises';
import type { SloConfig } from '@llm-prism/grafana';
import type { Storage } from '@llm-prism/storage';
import { collectReport, type ReportData } from './collect.ts';
import { renderHtml } from './html.ts';
import { formatTerminal } from './terminal.ts';

export interface ReportOutputs {
  html?: string;
  json?: boolean;
}

/**
 * Collects the report from open storage and writes it where asked; returns the data. Without an
 * SLO config (`undefined`) every section but the SLOs is reported and `data.slos` is `null`.
 */
export async function produceReport(
  storage: Pick<Storage, 'client' | 'database'>,
  config: SloConfig | undefined,
  scope: { from: number; to: number; service?: string },
  outputs: ReportOutputs,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<ReportData> {
  const data = await collectReport({ client: storage.client, database: storage.database, config: config && { ...config, database: storage.database }, ...scope });
  if (outputs.json) write(`${JSON.stringify(data, null, 2)}\n`);
  else write(formatTerminal(data));
  if (outputs.html) {
    await writeFile(outputs.html, await renderHtml(data));
    if (!outputs.json) write(`\nHTML report: ${outputs.html}\n`);
  }
  return data;
}
