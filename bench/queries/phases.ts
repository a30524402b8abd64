// Where dashboard queries' time goes, a base revision's against the worktree's: the committed
// dashboards of both, each query alternated between the two in one process over a data directory
// the query benchmark made (run.ts --data-dir). Per run: wall and process CPU time and the deltas
// of system.events around it (chDB keeps no system.query_log): parse, analysis, plan, pipeline,
// JIT compilation and CPU wait. The two answers are compared as JSON rows. docs/clickhouse.md,
// "Where a waste query's time goes".
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL, expandMacros } from '@llm-prism/grafana';
import { openStorage } from '@llm-prism/storage';
import { summarize } from '../lib/stats.ts';
import { ROOT } from '../lib/results.ts';
import { loadCatalog } from './catalog.ts';
import { END, intervalFor, RANGES } from './ranges.ts';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    /** The revision whose grafana/ is variant 0 (the worktree's is variant 1). */
    base: { type: 'string', default: 'HEAD' },
    match: { type: 'string', default: 'Waste by cause' },
    ranges: { type: 'string', default: RANGES.map((r) => r.label).join(',') },
    reps: { type: 'string', default: '20' },
    /** One line per run (to see what a slow run spent its time on). */
    verbose: { type: 'boolean', default: false },
  },
});
if (args['data-dir'] === undefined) throw new Error('--data-dir: a directory run.ts generated the calls in');

const EVENTS = [
  'QueryParseMicroseconds',
  'QueryAnalysisMicroseconds',
  'QueryPlanBuildMicroseconds',
  'QueryPlanOptimizeMicroseconds',
  'QueryPipelineBuildMicroseconds',
  'CompileExpressionsMicroseconds',
  'OSCPUWaitMicroseconds',
] as const;
const short = (event: string) => event.replace('Query', '').replace('Microseconds', '');

const baseRoot = await mkdtemp(join(tmpdir(), 'llm-prism-phases-'));
execFileSync('sh', ['-c', `git -C "${ROOT}" archive "${args.base}" grafana | tar -x -C "${baseRoot}"`]);
const catalogs = [await loadCatalog(baseRoot), await loadCatalog(ROOT)];
const storage = await openStorage({ dataDir: args['data-dir'] });
// Rows in a canonical order: a series ordered by time alone may list a bucket's rows in any order.
const json = async (sql: string) =>
  JSON.stringify((await (await storage.client.query({ query: sql, format: 'JSONEachRow' })).json()).map((row) => JSON.stringify(row)).sort());
async function events(): Promise<Record<string, number>> {
  const rs = await storage.client.query({ query: `SELECT event, value FROM system.events WHERE event IN (${EVENTS.map((e) => `'${e}'`).join(', ')})`, format: 'JSONEachRow' });
  return Object.fromEntries((await rs.json<{ event: string; value: string }>()).map((r) => [r.event, Number(r.value)]));
}
try {
  const match = new RegExp(args.match);
  for (const query of catalogs[1]!.filter((q) => match.test(q.name))) {
    const base = catalogs[0]!.find((q) => q.name === query.name);
    if (base === undefined) continue;
    for (const range of RANGES.filter((r) => args.ranges.split(',').includes(r.label))) {
      const ctx = { from: END - range.ms, to: END, intervalMs: intervalFor(range.ms), vars: { service: ALL, model: ALL, trace_id: '' } };
      const sqls = [expandMacros(base.sql, ctx), expandMacros(query.sql, ctx)];
      const answers = [await json(sqls[0]!), await json(sqls[1]!)];
      const runs = sqls.map(() => ({ wall: [] as number[], cpu: [] as number[], events: EVENTS.map(() => [] as number[]) }));
      for (let rep = 0; rep < Number(args.reps); rep++) {
        for (const [v, sql] of sqls.entries()) {
          const before = await events();
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const answer = await json(sql);
          const wall = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          const after = await events();
          if (answer !== answers[v]) throw new Error(`${query.name} @${range.label}: variant ${v}'s answer changed between runs`);
          const run = runs[v]!;
          run.wall.push(wall);
          run.cpu.push((cpu.user + cpu.system) / 1000);
          EVENTS.forEach((e, i) => run.events[i]!.push(((after[e] ?? 0) - (before[e] ?? 0)) / 1000));
          if (args.verbose) console.log(`    v${v} #${rep} ${wall.toFixed(1)} ms, cpu ${run.cpu.at(-1)!.toFixed(1)}, ${EVENTS.map((e, i) => `${short(e)} ${run.events[i]!.at(-1)!.toFixed(1)}`).join(', ')}`);
        }
      }
      console.log(`${query.name} @${range.label}: answers ${answers[0] === answers[1] ? 'identical' : 'DIFFER'}, load ${loadavg()[0]!.toFixed(1)}`);
      for (const [v, run] of runs.entries()) {
        const wall = summarize(run.wall);
        const median = (xs: number[]) => summarize(xs).median.toFixed(1);
        console.log(
          `  ${v === 0 ? `${args.base}`.padEnd(9) : 'worktree '} wall median ${wall.median.toFixed(1)} p95 ${wall.p95.toFixed(1)} max ${wall.max.toFixed(1)}, cpu ${median(run.cpu)}; medians ${EVENTS.map((e, i) => `${short(e)} ${median(run.events[i]!)}`).join(', ')}`,
        );
      }
    }
  }
} finally {
  await storage.close();
  await rm(baseRoot, { recursive: true, force: true });
}
