#!/usr/bin/env node
// The `llm-prism` command. Each sub-command lives in src/commands/<name>.ts and registers itself here.
import { Command } from 'commander';
import { registerDemo } from './commands/demo.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerReport } from './commands/report.ts';
import { registerServe } from './commands/serve.ts';
import { registerSlo } from './commands/slo.ts';

const program = new Command('llm-prism')
  .description('LLM Prism: phase-split LLM spans, ClickHouse storage, SLO dashboards and reports')
  .showHelpAfterError();

registerDemo(program);
registerMigrate(program);
registerReport(program);
registerServe(program);
registerSlo(program);

await program.parseAsync(process.argv);
