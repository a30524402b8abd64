// `npm run bench`: installs the peer instrumentations into bench/peers on first run, runs the
// four benchmarks one after the other (each in its own processes), then writes BENCHMARKS.md.
//   node bench/run.ts [--only overhead,ingest,queries,request-latency] [--calls 10000000]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.ts';
import { ROOT, writeResult } from './lib/results.ts';
import { PEERS_DIR } from './overhead/variants.ts';
import { writeReport } from './report.ts';

const BENCHMARKS = ['overhead', 'ingest', 'queries', 'request-latency'] as const;
const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: BENCHMARKS.join(',') },
    calls: { type: 'string', default: '10000000' },
  },
});
const only = new Set((args.only ?? '').split(','));

if (!existsSync(join(PEERS_DIR, 'node_modules/openlit'))) {
  console.log('installing the peer instrumentations into bench/peers (isolated, not a workspace)…');
  execFileSync('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: ROOT });
}

const runs: { benchmark: string; command: string; seconds: number }[] = [];
const loadBefore = describeMachine().loadAverage;
for (const name of BENCHMARKS) {
  if (!only.has(name)) continue;
  const extra = name === 'queries' ? ['--calls', args.calls as string] : [];
  const script = join('bench', name, 'run.ts');
  console.log(`\n== ${name}: node ${[script, ...extra].join(' ')}`);
  const t0 = performance.now();
  execFileSync(process.execPath, [script, ...extra], { stdio: 'inherit', cwd: ROOT });
  runs.push({ benchmark: name, command: `node ${[script, ...extra].join(' ')}`, seconds: (performance.now() - t0) / 1000 });
}
await writeResult('machine', { ...describeMachine(), loadAverageBefore: loadBefore, command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(), runs });
await writeReport();
