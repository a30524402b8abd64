// `llm-prism demo` (and `npm run demo`): the whole pipeline on this machine, then the report.
import { Command, InvalidArgumentError, Option } from 'commander';
import { runDemo } from '@llm-prism/demo';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 5 || n > 600) throw new InvalidArgumentError('expected 5 to 600 seconds');
  return n;
}

export function registerDemo(program: Command): void {
  program.addCommand(
    new Command('demo')
      .description('run an instrumented sample service against the provider simulator for a minute, then print the report')
      .addOption(new Option('--seconds <n>', 'length of the traffic phase').argParser(seconds).default(60))
      .option('--dir <path>', 'working directory for data and the HTML report (emptied first)', '.llm-prism/demo')
      .option('-c, --config <file>', "SLO config (YAML); default: the demo service's own SLOs")
      .action(async (opts: { seconds: number; dir: string; config?: string }) => {
        const abort = new AbortController();
        const stop = () => {
          process.stdout.write('\nStopping…\n');
          abort.abort();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await runDemo({ durationMs: opts.seconds * 1000, dir: opts.dir, config: opts.config, signal: abort.signal });
      }),
  );
}
