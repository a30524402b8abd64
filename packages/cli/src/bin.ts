#!/usr/bin/env node
// The `llm-prism` command. Each sub-command lives in src/commands/<name>.ts and registers itself here.
import { Command } from 'commander';
import { registerDemo } from './commands/demo.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerReport } from './commands/report.ts';
import { registerServe } from './commands/serve.ts';
import { registerSlo } from './commands/slo.ts';

// A reader that stopped early (`llm-prism report | head`) wants no more output: end quietly, as
// Unix tools do, rather than with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const program = new Command('llm-prism')
  .description('LLM Prism: phase-split LLM spans, ClickHouse storage, SLO dashboards and reports')
  .showHelpAfterError();

registerDemo(program);
registerMigrate(program);
registerReport(program);
registerServe(program);
registerSlo(program);

// What a command did not report itself (storage refusing its options, a file it cannot write)
// is a message and exit 1, not a stack trace; LLM_PRISM_DEBUG=1 shows the stack.
await program.parseAsync(process.argv).catch((error: unknown) => {
  const command = process.argv[2] ?? '';
  const message = error instanceof Error ? error.message : String(error);
  console.error(process.env.LLM_PRISM_DEBUG ? error : `llm-prism ${command}: ${message}`);
  process.exitCode = 1;
});
