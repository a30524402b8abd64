// `llm-prism slo generate`: SLO config → Grafana dashboards, datasource/dashboard provisioning and
// burn-rate alert rules. Only files change; stored data are never touched (thresholds apply at query time).
import { Command } from 'commander';
import { loadSloConfig, SloConfigError, ttftDeadlineWarnings, writeGenerated } from '@llm-prism/grafana';

export function registerSlo(program: Command): void {
  const slo = new Command('slo').description('SLOs as code: TTFT and completion SLOs, dashboards and alert rules');
  slo
    .command('generate')
    .description('write Grafana dashboards, provisioning and alert rules from the SLO config')
    .option('-c, --config <file>', 'SLO config (YAML)', 'llm-prism.slo.yaml')
    .option('-o, --out <dir>', 'output directory (dashboards/ and provisioning/ under it)', 'grafana')
    .action(async (opts: { config: string; out: string }) => {
      const config = await loadSloConfig(opts.config).catch((error: unknown) => {
        if (error instanceof SloConfigError) return slo.error(error.message);
        const message = error instanceof Error ? error.message : String(error);
        return slo.error(`llm-prism slo generate: cannot read ${opts.config}: ${message}`);
      });
      const written = await writeGenerated(config, opts.out);
      console.log(`${written.length} files from ${opts.config} (${config.slos.length} SLOs, ${config.window} window):`);
      for (const path of written) console.log(`  ${path}`);
      for (const warning of ttftDeadlineWarnings(config)) console.error(`warning: ${warning}`);
    });
  program.addCommand(slo);
}
