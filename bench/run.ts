// `npm run bench`: installs the peer instrumentations into bench/peers and bench/peers-otel on first run, runs the
// four benchmarks one after the other (each in its own processes), then writes BENCHMARKS.md.
//   node bench/run.ts [--only overhead,replay,ingest,queries,request-latency] [--calls 10000000] [--scale-calls 1000000]
//                     [--data-dir DIR]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.ts';
import { ROOT, writeResult } from './lib/results.ts';
import { OTEL_PEER_DIR, PEERS_DIR } from './overhead/variants.ts';
import { writeReport } from './report.ts';

const BENCHMARKS = ['overhead', 'replay', 'ingest', 'queries', 'request-latency'] as const;
const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: BENCHMARKS.join(',') },
    calls: { type: 'string', default: '10000000' },
    /** The queries also run on this many calls (results/queries-scale.json): how query time grows with the data. */
    'scale-calls': { type: 'string', default: '1000000' },
    /** Where the --calls data is kept between runs (generated there once, reused while its generator is unchanged). */
    'data-dir': { type: 'string' },
  },
});
const only = new Set((args.only ?? '').split(','));

for (const [dir, marker] of [
  [PEERS_DIR, 'node_modules/openlit'],
  [OTEL_PEER_DIR, 'node_modules/@opentelemetry/instrumentation-openai'],
] as const) {
  if (existsSync(join(dir, marker))) continue;
  console.log(`installing the peer instrumentations into ${dir.slice(ROOT.length)} (isolated, not a workspace)…`);
  execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: ROOT });
}

const runs: { benchmark: string; command: string; seconds: number }[] = [];
const loadBefore = describeMachine().loadAverage;
const steps = BENCHMARKS.filter((name) => only.has(name)).flatMap((name): { name: string; extra: string[] }[] =>
  name === 'queries'
    ? [
        { name, extra: ['--calls', args['scale-calls'] as string, '--name', 'queries-scale', '--raw-budget-s', '0'] },
        { name, extra: ['--calls', args.calls as string, ...(args['data-dir'] ? ['--data-dir', args['data-dir']] : [])] },
      ]
    : [{ name, extra: name === 'replay' ? ['--callgrind'] : [] }],
);
for (const { name, extra } of steps) {
  const script = join('bench', name, 'run.ts');
  console.log(`\n== ${name}: node ${[script, ...extra].join(' ')}`);
  const t0 = performance.now();
  execFileSync(process.execPath, [script, ...extra], { stdio: 'inherit', cwd: ROOT });
  runs.push({ benchmark: name, command: `node ${[script, ...extra].join(' ')}`, seconds: (performance.now() - t0) / 1000 });
}
await writeResult('machine', { ...describeMachine(), loadAverageBefore: loadBefore, command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(), runs });
await writeReport();
