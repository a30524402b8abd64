// LLM Prism's cost in one process, without the noise between processes: a `+prism` variant's calls
// against the simulator in blocks, the instrumentation disabled and enabled in turn (order
// alternating by round), CPU time (process.cpuUsage: every thread) per call of each block. The
// OTel SDK, its context manager and the SDK patches' loading are the same on both sides, so the
// ratio is what enabling the instrumentation costs: its spans, wire tap and bookkeeping.
//   NODE_OPTIONS=--conditions=llm-prism-source \
//     node bench/overhead/toggle.ts [openai7+prism|openai6+prism|ai7+prism] [stream|nonstream] [--rounds=12] [--calls=120]
// Prints the median CPU per call of each side and the median paired ratio with its 95 % interval.
import { spawnChild } from '../lib/child.ts';
import { medianCI } from '../lib/stats.ts';
import { benchCaller, inFlight } from './bench-call.ts';
import { loadVariant, type Variant } from './variants.ts';

const args = process.argv.slice(2);
const [variant = 'openai7+prism', mode = 'stream'] = args.filter((a) => !a.startsWith('--')) as [Variant?, ('stream' | 'nonstream')?];
const flag = (name: string, fallback: number) => Number(new RegExp(`^--${name}=(\\d+)$`).exec(args.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback);
const rounds = flag('rounds', 12);
const calls = flag('calls', 120);
const CONCURRENCY = 8; // as the benchmark's streamed blocks (worker.ts)

const sim = spawnChild('bench/overhead/simulator-process.ts');
const { baseURL } = await sim.next<{ baseURL: string }>();
const loaded = await loadVariant(variant);
const instrumentation = loaded.instrumentation;
if (!instrumentation) throw new Error(`${variant} has no LLM Prism instrumentation to switch`);
const benchCall = benchCaller(loaded.client, { baseURL, maxRetries: 0 });
const call = () => benchCall(mode);

/** CPU microseconds per call of a block, after a few calls that settle the switch. */
async function block(enabled: boolean): Promise<number> {
  if (enabled) instrumentation!.enable();
  else instrumentation!.disable();
  await inFlight(call, CONCURRENCY, CONCURRENCY);
  const before = process.cpuUsage();
  await inFlight(call, calls, CONCURRENCY);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

await inFlight(call, 5 * CONCURRENCY, CONCURRENCY); // warm-up, instrumented
const on: number[] = [];
const off: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (const enabled of round % 2 === 0 ? [false, true] : [true, false]) (enabled ? on : off).push(await block(enabled));
}
const ratio = medianCI(on.map((us, i) => us / off[i]!));
const median = (xs: number[]) => medianCI(xs).value;
console.log(
  JSON.stringify({
    variant,
    mode,
    rounds,
    callsPerBlock: calls,
    cpuUsPerCallOn: Math.round(median(on)),
    cpuUsPerCallOff: Math.round(median(off)),
    pairedRatio: { value: +ratio.value.toFixed(3), low: +ratio.low.toFixed(3), high: +ratio.high.toFixed(3), level: ratio.level },
  }),
);
await loaded.flush();
await sim.close();
process.exit(0); // the clients' keep-alive sockets would hold the process open
