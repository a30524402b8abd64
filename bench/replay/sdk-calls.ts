// One process under valgrind's callgrind for `node bench/replay/run.ts --sdk-callgrind`: real calls
// through the official openai SDK against the simulator (in another process), not a replay, so the
// count holds every fixed cost per call (the patched method, context, the wire tap, span start and
// end, cache classification, metrics) besides the response path.
//   node bench/replay/sdk-calls.ts <baseURL> <openai7|openai7+prism> <stream|nonstream> <warm-up> <calls>
// After the warm-up it calls `os.getPriority()` once: run.ts starts callgrind with
// `--zero-before=uv_os_getpriority`, so the counts it reads (`totals:`) hold the measured calls
// alone — a trigger inside the process, where zeroing from outside (`callgrind_control`) lands
// whenever valgrind gets to it, calls later.
import { getPriority } from 'node:os';
import { benchCaller } from '../overhead/bench-call.ts';
import { loadVariant, type Variant } from '../overhead/variants.ts';

const [baseURL, variant, mode, warmUp, calls] = process.argv.slice(2) as [string, Variant, 'stream' | 'nonstream', string, string];
const loaded = await loadVariant(variant);
// Retries: under valgrind a pause of the slowed process (the JIT compiling on the main thread) can
// outlast the simulator's keep-alive, and the next request finds its socket closed. Rare; the
// requests sent during the measured calls are printed, so run.ts reports any retry.
let requests = 0;
const countedFetch: typeof fetch = (input, init) => {
  requests++;
  return fetch(input, init);
};
// The overhead benchmark's calls: 200 one-token chunks, or the same answer whole.
const benchCall = benchCaller(loaded.client, { baseURL, maxRetries: 2, fetch: countedFetch });
const call = () => benchCall(mode);

for (let i = 0; i < Number(warmUp); i++) await call();
await loaded.flush();
getPriority(); // callgrind zeroes its counters here (--zero-before=uv_os_getpriority)
requests = 0;
for (let i = 0; i < Number(calls); i++) await call();
await loaded.flush();
process.stdout.write(`${JSON.stringify({ requests })}\n`, () => process.exit(0));
