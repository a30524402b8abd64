// LLM Prism's cost in one process, without the noise between processes: a `+prism` variant's calls
// against the simulator in blocks, the instrumentation disabled and enabled in turn (order
// alternating by round), CPU time (process.cpuUsage: every thread) per call of each block. The
// OTel SDK, its context manager and the SDK patches' loading are the same on both sides, so the
// ratio is what enabling the instrumentation costs: its spans, wire tap and bookkeeping.
// `--base=REV` adds a third side, the instrumentation of git revision REV (checked out in a
// temporary worktree, this checkout's node_modules linked in) enabled alone: a code change against
// REV in one process, each block paired with its neighbours in the same round.
//   NODE_OPTIONS=--conditions=llm-prism-source \
//     node bench/overhead/toggle.ts [openai7+prism|openai6+prism|ai7+prism] [stream|nonstream] [--rounds=12] [--calls=120] [--base=REV]
// Prints the median CPU per call of each side and the median paired ratios with their 95 % intervals.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild } from '../lib/child.ts';
import { ROOT } from '../lib/results.ts';
import { medianCI } from '../lib/stats.ts';
import { benchCaller, inFlight } from './bench-call.ts';
import { loadVariant, type InstrumentationClass, type Variant } from './variants.ts';

const args = process.argv.slice(2);
const [variant = 'openai7+prism', mode = 'stream'] = args.filter((a) => !a.startsWith('--')) as [Variant?, ('stream' | 'nonstream')?];
const flag = (name: string, fallback: number) => Number(new RegExp(`^--${name}=(\\d+)$`).exec(args.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback);
const rounds = flag('rounds', 12);
const calls = flag('calls', 120);
const baseRev = args.find((a) => a.startsWith('--base='))?.slice('--base='.length);
const CONCURRENCY = 8; // as the benchmark's streamed blocks (worker.ts)

/** REV's instrumentation class, from a worktree that shares this checkout's installed packages; `remove` deletes the worktree. */
async function baseInstrumentation(rev: string): Promise<{ Base: InstrumentationClass; remove: () => void }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'toggle-base-')), 'tree');
  execFileSync('git', ['worktree', 'add', '--detach', dir, rev], { cwd: ROOT, stdio: 'ignore' });
  const remove = () => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const own = join(ROOT, 'packages/instrumentation/node_modules');
    if (existsSync(own)) symlinkSync(own, join(dir, 'packages/instrumentation/node_modules'));
    const { LlmPrismInstrumentation } = (await import(join(dir, 'packages/instrumentation/src/index.ts'))) as { LlmPrismInstrumentation: InstrumentationClass };
    return { Base: LlmPrismInstrumentation, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

const base = baseRev === undefined ? undefined : await baseInstrumentation(baseRev);
const sim = spawnChild('bench/overhead/simulator-process.ts');
const { baseURL } = await sim.next<{ baseURL: string }>();
const loaded = await loadVariant(variant, base?.Base);
const { instrumentation, other } = loaded;
if (!instrumentation) throw new Error(`${variant} has no LLM Prism instrumentation to switch`);
const benchCall = benchCaller(loaded.client, { baseURL, maxRetries: 0 });
const call = () => benchCall(mode);

type Side = 'off' | 'on' | 'base';
/** CPU microseconds per call of a block, after a few calls that settle the switch. */
async function block(side: Side): Promise<number> {
  instrumentation!.disable();
  other?.disable();
  if (side === 'on') instrumentation!.enable();
  if (side === 'base') other!.enable();
  await inFlight(call, CONCURRENCY, CONCURRENCY);
  const before = process.cpuUsage();
  await inFlight(call, calls, CONCURRENCY);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

/** Each round's order: off and on alternating; with a base, the six orders of the three sides in turn. */
const ORDERS: Side[][] = other
  ? [['off', 'on', 'base'], ['base', 'off', 'on'], ['on', 'base', 'off'], ['off', 'base', 'on'], ['on', 'off', 'base'], ['base', 'on', 'off']]
  : [['off', 'on'], ['on', 'off']];
await inFlight(call, 5 * CONCURRENCY, CONCURRENCY); // warm-up, instrumented
const cpu: Record<Side, number[]> = { off: [], on: [], base: [] };
for (let round = 0; round < rounds; round++) for (const side of ORDERS[round % ORDERS.length]!) cpu[side].push(await block(side));
const paired = (a: number[], b: number[]) => {
  const r = medianCI(a.map((us, i) => us / b[i]!));
  return { value: +r.value.toFixed(3), low: +r.low.toFixed(3), high: +r.high.toFixed(3), level: r.level };
};
const median = (xs: number[]) => Math.round(medianCI(xs).value);
console.log(
  JSON.stringify({
    variant,
    mode,
    rounds,
    callsPerBlock: calls,
    cpuUsPerCallOn: median(cpu.on),
    cpuUsPerCallOff: median(cpu.off),
    pairedRatio: paired(cpu.on, cpu.off),
    ...(other && {
      base: baseRev,
      cpuUsPerCallBase: median(cpu.base),
      basePairedRatio: paired(cpu.base, cpu.off),
      onToBase: paired(cpu.on, cpu.base),
    }),
  }),
);
await loaded.flush();
await sim.close();
base?.remove();
process.exit(0); // the clients' keep-alive sockets would hold the process open
