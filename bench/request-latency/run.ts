// Benchmark 4: latency the instrumentation adds to the request, by prompt size. Bare openai 7 and
// openai 7 + LLM Prism each run in their own process against the simulator (a third process);
// rounds alternate between the two (rotating which goes first), each round makes `--calls`
// sequential non-streamed calls per prompt size, and every call is one sample of the time from
// create() to the request's headers and last body byte on the socket.
import { parseArgs } from 'node:util';
import { spawnChild, type Child } from '../lib/child.ts';
import { writeResult } from '../lib/results.ts';
import { summarize, type Summary } from '../lib/stats.ts';
import type { RoundResult } from './worker.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    calls: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1024,102400,1048576,4194304' },
  },
});
const rounds = Number(args.rounds);
const calls = Number(args.calls);
const sizes = (args.sizes as string).split(',').map(Number);
const VARIANTS = ['openai7', 'openai7+prism'] as const;
type Variant = (typeof VARIANTS)[number];
const here = (file: string) => new URL(file, import.meta.url).pathname;

const sim = spawnChild(here('../overhead/simulator-process.ts'));
const { baseURL } = await sim.next<{ baseURL: string }>();
const workers = new Map<Variant, Child>();
const samples = new Map<string, { toHeadersMs: number[]; toBodySentMs: number[] }>();
const key = (v: Variant, size: number) => `${v}@${size}`;
try {
  for (const v of VARIANTS) {
    const child = spawnChild(here('./worker.ts'), [v, baseURL]);
    await child.next();
    workers.set(v, child);
    // Warm-up: JIT, connection, the simulator's own first parse of each size.
    for (const size of sizes) await child.ask({ promptBytes: size, calls: 2 });
  }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const size of sizes) {
      for (const v of order) {
        const res = await workers.get(v)!.ask<RoundResult>({ promptBytes: size, calls });
        const s = samples.get(key(v, size)) ?? { toHeadersMs: [], toBodySentMs: [] };
        s.toHeadersMs.push(...res.toHeadersMs);
        s.toBodySentMs.push(...res.toBodySentMs);
        samples.set(key(v, size), s);
      }
    }
    console.log(`round ${r + 1}/${rounds}`);
  }
} finally {
  for (const w of workers.values()) await w.close();
  await sim.close();
}

interface SizeResult {
  promptBytes: number;
  bare: { toHeadersMs: Summary; toBodySentMs: Summary };
  prism: { toHeadersMs: Summary; toBodySentMs: Summary };
  /** median(prism) − median(bare), ms. */
  addedToHeadersMs: number;
  addedToBodySentMs: number;
}
const results: SizeResult[] = sizes.map((size) => {
  const bare = samples.get(key('openai7', size))!;
  const prism = samples.get(key('openai7+prism', size))!;
  const b = { toHeadersMs: summarize(bare.toHeadersMs), toBodySentMs: summarize(bare.toBodySentMs) };
  const p = { toHeadersMs: summarize(prism.toHeadersMs), toBodySentMs: summarize(prism.toBodySentMs) };
  return {
    promptBytes: size,
    bare: b,
    prism: p,
    addedToHeadersMs: p.toHeadersMs.median - b.toHeadersMs.median,
    addedToBodySentMs: p.toBodySentMs.median - b.toBodySentMs.median,
  };
});
for (const r of results) {
  console.log(`${r.promptBytes} B: to headers bare ${r.bare.toHeadersMs.median.toFixed(2)} ms, prism ${r.prism.toHeadersMs.median.toFixed(2)} ms (+${r.addedToHeadersMs.toFixed(2)})`);
}
await writeResult('request-latency', { rounds, callsPerRound: calls, results });
