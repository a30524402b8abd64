// `llm-prism demo` (and `npm run demo`): the whole pipeline on this machine, then the report; with
// `--endpoint`, the traffic alone, to an ingest service already running (the Docker stack's).
import { Command, InvalidArgumentError, Option } from 'commander';
import { runDemo, sendDemoTraffic } from '@llm-prism/demo';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 5 || n > 600) throw new InvalidArgumentError('expected 5 to 600 seconds');
  return n;
}

/** An OTLP/HTTP base URL (the exporter appends /v1/traces). */
function endpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://ingest:4318');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http(s) URL, e.g. http://ingest:4318');
  return value.replace(/\/+$/, '');
}

export function registerDemo(program: Command): void {
  program.addCommand(
    new Command('demo')
      .description('run an instrumented sample service against the provider simulator for a minute, then print the report')
      .addOption(new Option('--seconds <n>', 'length of the traffic phase').argParser(seconds).default(60))
      .option('--dir <path>', 'working directory for data and the HTML report (emptied first)', '.llm-prism/demo')
      .option('-c, --config <file>', "SLO config (YAML); default: the demo service's own SLOs")
      .addOption(
        new Option(
          '--endpoint <url>',
          "send the spans to this OTLP/HTTP endpoint (a running ingest service, as OTEL_EXPORTER_OTLP_ENDPOINT; OTEL_EXPORTER_OTLP_HEADERS is passed on) instead of embedded storage; no report: read it from that ingest's storage",
        ).argParser(endpoint),
      )
      .action(async (opts: { seconds: number; dir: string; config?: string; endpoint?: string }) => {
        const abort = new AbortController();
        const stop = () => {
          process.stdout.write('\nStopping…\n');
          abort.abort();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const traffic = { durationMs: opts.seconds * 1000, signal: abort.signal };
        if (opts.endpoint === undefined) await runDemo({ ...traffic, dir: opts.dir, config: opts.config });
        else {
          const load = await sendDemoTraffic(opts.endpoint, traffic);
          process.stdout.write(`${load.sent} calls sent (ok ${load.ok}, failed ${load.failed}); their spans went to ${opts.endpoint}\n`);
        }
      }),
  );
}
