// One variant's calls against the simulator (in its own process), with a V8 CPU profile of the
// measured calls only (after 20 warm-up calls; start-up and module loading left out):
//   NODE_OPTIONS=--conditions=llm-prism-source \
//     node bench/overhead/profile.ts <variant> <stream|nonstream> <calls> [out.cpuprofile] [--concurrency=N]
// (the simulator's child process needs the condition too). Prints CPU and wall time per call.
// `--concurrency=8` keeps 8 calls in flight, as the benchmark's streamed blocks do (worker.ts); the
// default is one at a time. Compare the profiles of `openai7` and `openai7+prism` by self and
// inclusive time per call (Chrome DevTools, or a script over the profile's nodes and samples).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { spawnChild } from '../lib/child.ts';
import { benchCall } from './bench-call.ts';
import { loadVariant, type Variant } from './variants.ts';

const args = process.argv.slice(2);
const [variant, mode, callsArg, out] = args.filter((a) => !a.startsWith('--')) as [Variant, 'stream' | 'nonstream', string | undefined, string | undefined];
const calls = Number(callsArg ?? 100);
const concurrency = Number(/^--concurrency=(\d+)$/.exec(args.find((a) => a.startsWith('--concurrency=')) ?? '')?.[1] ?? 1);
const sim = spawnChild('bench/overhead/simulator-process.ts');
const { baseURL } = await sim.next<{ baseURL: string }>();
const loaded = await loadVariant(variant);
const client = new loaded.OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 });
const call = () => benchCall(client, mode);

/** `n` calls, `concurrency` of them in flight at once. */
async function inFlight(n: number): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

await inFlight(20);
const session = new Session();
if (out) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await inFlight(calls);
await loaded.flush();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
if (out) writeFileSync(out, JSON.stringify((await session.post('Profiler.stop')).profile));
console.log(JSON.stringify({ variant, mode, calls, cpuUsPerCall: (cpu.user + cpu.system) / calls, wallMsPerCall: wallMs / calls }));
await sim.close();
