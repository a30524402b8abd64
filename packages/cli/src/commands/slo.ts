// `llm-prism slo generate`: SLO config → Grafana dashboards, datasource/dashboard provisioning and
// burn-rate alert rules. Only files change; stored data are never touched (thresholds apply at query time).
// `llm-prism slo drill`: scripted incidents replayed into a scratch store, and when each rule fires.
import { Command } from 'commander';
import { DrillOptionError, runDrill, SCENARIOS, type DrillResult } from '@llm-prism/demo';
import { DEFAULT_TTFT_DEADLINE_MS, loadSloConfig, objectivePercent, SloConfigError, ttftDeadlineWarnings, writeGenerated, type SloConfig } from '@llm-prism/grafana';
import { wholeNumber } from '../arguments.ts';

/** One line per SLO and scenario: when the page and the ticket rule fired. */
function drillTable(results: readonly DrillResult[]): string {
  const fired = (m: number | null | undefined) => (m === null || m === undefined ? 'never' : `${m} min`);
  const lines = ['SLO                                objective  scenario        page fired after  ticket fired after'];
  const keys = [...new Set(results.map((r) => `${r.slo}\u0000${r.scenario}`))];
  for (const key of keys) {
    const [slo, scenario] = key.split('\u0000') as [string, string];
    const of = (severity: string) => results.find((r) => r.slo === slo && r.scenario === scenario && r.severity === severity);
    const page = of('page');
    lines.push(
      `${slo.padEnd(34)} ${`${objectivePercent(page?.objective ?? 0)} %`.padEnd(10)} ${scenario.padEnd(15)} ${fired(page?.firedAfterMinutes).padEnd(17)} ${fired(of('ticket')?.firedAfterMinutes)}`,
    );
  }
  return lines.join('\n');
}

export function registerSlo(program: Command): void {
  const slo = new Command('slo').description('SLOs as code: TTFT and completion SLOs, dashboards and alert rules');
  const load = (path: string, command: string): Promise<SloConfig> =>
    loadSloConfig(path).catch((error: unknown) => {
      if (error instanceof SloConfigError) return slo.error(error.message);
      const message = error instanceof Error ? error.message : String(error);
      return slo.error(`llm-prism slo ${command}: cannot read ${path}: ${message}`);
    });
  slo
    .command('generate')
    .description('write Grafana dashboards, provisioning and alert rules from the SLO config')
    .option('-c, --config <file>', 'SLO config (YAML)', 'llm-prism.slo.yaml')
    .option('-o, --out <dir>', 'output directory (dashboards/ and provisioning/ under it)', 'grafana')
    .action(async (opts: { config: string; out: string }) => {
      const config = await load(opts.config, 'generate');
      const { written, removed } = await writeGenerated(config, opts.out);
      const slos = config.slos.length === 0 ? 'no SLOs: dashboards only' : `${config.slos.length} SLOs, ${config.window} window`;
      console.log(`${written.length} files from ${opts.config} (${slos}):`);
      for (const path of written) console.log(`  ${path}`);
      if (removed.length > 0) console.log(`removed, no longer generated from ${opts.config}:`);
      for (const path of removed) console.log(`  ${path}`);
      for (const warning of ttftDeadlineWarnings(config)) console.error(`warning: ${warning}`);
    });
  slo
    .command('drill')
    .description(
      `replay scripted incidents (${SCENARIOS.map((s) => s.name).join(', ')}) for every SLO of the config into a scratch store and print when each generated alert rule fires`,
    )
    .option('-c, --config <file>', 'SLO config (YAML)', 'llm-prism.slo.yaml')
    .option('--json', 'print an array of { slo, objective, scenario, severity, firedAfterMinutes } (null: never fired)')
    .option('--calls-per-minute <n>', 'traffic of each SLO', wholeNumber(1, 600), 6)
    .option('--hang-timeout <seconds>', 'when a hung call’s client gives up', wholeNumber(1, 86_400), 600)
    .option('--ttft-deadline <seconds>', 'the services’ TTFT deadline (LLM_PRISM_TTFT_DEADLINE_MS): when a hung call is reported', wholeNumber(1, 86_400), DEFAULT_TTFT_DEADLINE_MS / 1000)
    .option('--evaluation-second <s>', 'second of the minute at which the rules are evaluated (Grafana picks one per rule group)', wholeNumber(0, 59), 30)
    .action(async (opts: { config: string; json?: boolean; callsPerMinute: number; hangTimeout: number; ttftDeadline: number; evaluationSecond: number }) => {
      const config = await load(opts.config, 'drill');
      if (config.slos.length === 0) slo.error(`llm-prism slo drill: ${opts.config} has no SLOs (slos:), so no alert rule to drill`);
      const report = await runDrill({
        config,
        callsPerMinute: opts.callsPerMinute,
        hangTimeoutS: opts.hangTimeout,
        ttftDeadlineS: opts.ttftDeadline,
        evaluationSecond: opts.evaluationSecond,
        log: opts.json === true ? () => {} : (line) => console.error(line),
      }).catch((error: unknown) => (error instanceof DrillOptionError ? slo.error(error.message) : Promise.reject(error)));
      if (opts.json === true) {
        console.log(JSON.stringify(report.results, null, 2));
        return;
      }
      console.log(drillTable(report.results));
      console.log(
        `\nMinutes from the incident's start; never = not within the scenario (${SCENARIOS.map((s) => `${s.name} ${s.minutes / 60} h`).join(', ')}).\n` +
          `${report.sqlChecks} rule evaluations checked against the rules' SQL on the scratch store. Scenarios and method: docs/slo.md, "Fire drill".`,
      );
    });
  program.addCommand(slo);
}
