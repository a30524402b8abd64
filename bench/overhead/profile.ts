// One variant's calls against the simulator (in its own process), with a V8 CPU profile of the
// measured calls only (after 20 warm-up calls; start-up and module loading left out):
//   NODE_OPTIONS=--conditions=llm-prism-source \
//     node bench/overhead/profile.ts <variant> <stream|nonstream> <calls> [out.cpuprofile] [--concurrency=N]
// (the simulator's child process needs the condition too). Prints CPU and wall time per call, and
// the main thread's GC pauses per call by kind (minor: scavenges; major: mark-compacts' pauses;
// incremental steps and helper threads' GC work are not counted): GC's share under V8's own
// schedule, which callgrind's fixed one (bench/replay --sdk-callgrind) misstates over a short
// window, by whether a mark-compact falls in it.
// `--concurrency=8` keeps 8 calls in flight, as the benchmark's streamed blocks do (worker.ts); the
// default is one at a time. Compare the profiles of `openai7` and `openai7+prism` by self and
// inclusive time per call (Chrome DevTools, or a script over the profile's nodes and samples).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { spawnChild } from '../lib/child.ts';
import { benchCaller, inFlight } from './bench-call.ts';
import { loadVariant, type Variant } from './variants.ts';

const args = process.argv.slice(2);
const [variant, mode, callsArg, out] = args.filter((a) => !a.startsWith('--')) as [Variant, 'stream' | 'nonstream', string | undefined, string | undefined];
const calls = Number(callsArg ?? 100);
const concurrency = Number(/^--concurrency=(\d+)$/.exec(args.find((a) => a.startsWith('--concurrency=')) ?? '')?.[1] ?? 1);
const sim = spawnChild('bench/overhead/simulator-process.ts');
const { baseURL } = await sim.next<{ baseURL: string }>();
const loaded = await loadVariant(variant);
const benchCall = benchCaller(loaded.client, { baseURL, maxRetries: 0 });
const call = () => benchCall(mode);

await inFlight(call, 20, concurrency);
const session = new Session();
if (out) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
/** GC pause milliseconds of the measured calls, by kind. */
const gcMs = { minor: 0, major: 0 };
const countGc = (entries: PerformanceEntry[]): void => {
  for (const entry of entries as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMs.major += entry.duration;
    else gcMs.minor += entry.duration;
  }
};
const gcObserver = new PerformanceObserver((list) => countGc(list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await inFlight(call, calls, concurrency);
await loaded.flush();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
countGc(gcObserver.takeRecords()); // those not delivered yet
gcObserver.disconnect();
if (out) writeFileSync(out, JSON.stringify((await session.post('Profiler.stop')).profile));
console.log(JSON.stringify({ variant, mode, calls, cpuUsPerCall: (cpu.user + cpu.system) / calls, wallMsPerCall: wallMs / calls, gcPauseUsPerCall: { minor: (gcMs.minor * 1000) / calls, major: (gcMs.major * 1000) / calls } }));
await sim.close();
