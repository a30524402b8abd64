// Benchmark 1: instrumentation overhead. The simulator and every variant run in separate
// processes; rounds alternate between the variants (rotating which goes first) so that machine
// noise spreads evenly, and each variant is compared with the bare SDK of the same version.
import { parseArgs } from 'node:util';
import { spawnChild, type Child } from '../lib/child.ts';
import { writeResult } from '../lib/results.ts';
import { medianCI, summarize, type Estimate, type Summary } from '../lib/stats.ts';
import type { MemoryResult } from './memory.ts';
import { BASELINE, VARIANTS, type Variant } from './variants.ts';
import type { RoundResult } from './worker.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    'stream-calls': { type: 'string', default: '5' },
    'nonstream-calls': { type: 'string', default: '200' },
    chunks: { type: 'string', default: '200' },
    'memory-calls': { type: 'string', default: '100000' },
    processes: { type: 'string', default: '2' },
  },
});
const rounds = Number(args.rounds);
/**
 * Worker processes per variant, used in turn round by round: a process keeps its JIT decisions,
 * heap layout and core for its whole life, which shifts all its rounds alike (the same variant came
 * out ×0.90 [0.86, 0.95] in one run and ×1.10 [1.02, 1.16] in the next with one process), so the
 * rounds of one process alone understate the noise; rounds spread over several processes carry it
 * into the interval.
 */
const processes = Number(args.processes);
const chunks = Number(args.chunks);
const here = (file: string) => new URL(file, import.meta.url).pathname;

type Mode = 'stream' | 'nonstream';
const CALLS: Record<Mode, number> = { stream: Number(args['stream-calls']), nonstream: Number(args['nonstream-calls']) };

interface ModeResult {
  /** Per call, one sample per round. */
  cpuUsPerCall: Summary;
  wallMsPerCall: Summary;
  cpuUsPerChunk: Summary | null;
  spansPerCall: number | null;
}
interface Comparison {
  variant: Variant;
  baseline: Variant;
  mode: Mode;
  /** median(variant) ÷ median(baseline). */
  cpuRatio: number;
  wallRatio: number;
  /** Ratios of adjacent rounds (variant round r ÷ baseline round r): the noise of the ratio. */
  pairedCpuRatio: Summary;
  /** Their median with its 95 % bootstrap interval over the rounds (lib/stats.ts `medianCI`). */
  pairedCpuRatioCI: Estimate;
  /** min(variant) ÷ min(baseline): contention only ever adds CPU time, so the minima are the least disturbed rounds. */
  minCpuRatio: number;
  addedCpuUsPerCall: number;
  addedCpuUsPerChunk: number | null;
}

function check(variant: Variant, mode: Mode, r: RoundResult): void {
  const expectedChunks = mode === 'stream' ? CALLS.stream * chunks : CALLS.nonstream;
  if (r.outputChunks !== expectedChunks) throw new Error(`${variant} ${mode}: read ${r.outputChunks} chunks, expected ${expectedChunks}`);
  // An instrumented variant that exported no span per call measured nothing.
  if (r.spans !== null && r.spans < CALLS[mode]) throw new Error(`${variant} ${mode}: ${r.spans} spans for ${CALLS[mode]} calls`);
}

const sim = spawnChild(here('./simulator-process.ts'));
const { baseURL } = await sim.next<{ baseURL: string }>();
const workers = new Map<Variant, Child[]>();
const all = () => [...workers.values()].flat();
try {
  for (const v of VARIANTS) {
    const ws: Child[] = [];
    for (let p = 0; p < processes; p++) {
      const w = spawnChild(here('./worker.ts'), [v, baseURL]);
      await w.next();
      ws.push(w);
    }
    workers.set(v, ws);
  }
  const samples = new Map<string, RoundResult[]>();
  for (const mode of ['stream', 'nonstream'] as const) {
    const request = { mode, calls: CALLS[mode], chunks };
    // Warm-up (JIT, connection pool), discarded.
    for (const w of all()) for (let i = 0; i < 2; i++) await w.ask(request);
    for (let r = 0; r < rounds; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length] as Variant);
      for (const v of order) {
        const result = await (workers.get(v) as Child[])[r % processes]!.ask<RoundResult>(request);
        check(v, mode, result);
        const key = `${v}/${mode}`;
        samples.set(key, [...(samples.get(key) ?? []), result]);
      }
      console.log(`  ${mode} round ${r + 1}/${rounds}`);
    }
  }

  const results: Record<string, ModeResult> = {};
  for (const [key, rs] of samples) {
    const mode = key.split('/')[1] as Mode;
    const calls = CALLS[mode];
    const cpu = rs.map((r) => r.cpuUs / calls);
    results[key] = {
      cpuUsPerCall: summarize(cpu),
      wallMsPerCall: summarize(rs.map((r) => r.wallMs / calls)),
      cpuUsPerChunk: mode === 'stream' ? summarize(cpu.map((c) => c / chunks)) : null,
      spansPerCall: rs[0]?.spans === null ? null : rs.reduce((s, r) => s + (r.spans ?? 0), 0) / (rs.length * calls),
    };
  }
  const comparisons: Comparison[] = [];
  for (const mode of ['stream', 'nonstream'] as const) {
    for (const v of VARIANTS) {
      const base = BASELINE[v];
      if (base === v) continue;
      const a = results[`${v}/${mode}`] as ModeResult;
      const b = results[`${base}/${mode}`] as ModeResult;
      const va = samples.get(`${v}/${mode}`) as RoundResult[];
      const vb = samples.get(`${base}/${mode}`) as RoundResult[];
      const added = a.cpuUsPerCall.median - b.cpuUsPerCall.median;
      comparisons.push({
        variant: v,
        baseline: base,
        mode,
        cpuRatio: a.cpuUsPerCall.median / b.cpuUsPerCall.median,
        wallRatio: a.wallMsPerCall.median / b.wallMsPerCall.median,
        pairedCpuRatio: summarize(va.map((r, i) => r.cpuUs / (vb[i] as RoundResult).cpuUs)),
        pairedCpuRatioCI: medianCI(va.map((r, i) => r.cpuUs / (vb[i] as RoundResult).cpuUs)),
        minCpuRatio: a.cpuUsPerCall.min / b.cpuUsPerCall.min,
        addedCpuUsPerCall: added,
        addedCpuUsPerChunk: mode === 'stream' ? added / chunks : null,
      });
    }
  }
  for (const w of all()) await w.close();
  workers.clear();

  console.log(`  memory: ${Number(args['memory-calls']).toLocaleString('en')} calls with LLM Prism…`);
  const mem = spawnChild(here('./memory.ts'), ['openai7+prism', baseURL], ['--expose-gc']);
  await mem.next();
  const memoryRequest = { calls: Number(args['memory-calls']), checkpoints: 10, concurrency: 16, chunks: 3 };
  const memory = await mem.ask<MemoryResult>(memoryRequest);
  await mem.close();
  const first = memory.checkpoints[1];
  const last = memory.checkpoints.at(-1);
  if (first === undefined || last === undefined) throw new Error('no memory checkpoints');

  await writeResult('overhead', {
    chunksPerStreamedCall: chunks,
    callsPerRound: CALLS,
    rounds,
    processesPerVariant: processes,
    results,
    comparisons,
    memory: {
      variant: 'openai7+prism',
      ...memoryRequest,
      ...memory,
      // From the first checkpoint (warm: pools, JIT, caches filled) to the last.
      growthBytes: last.heapUsedBytes - first.heapUsedBytes,
      growthBytesPerThousandCalls: ((last.heapUsedBytes - first.heapUsedBytes) / (last.calls - first.calls)) * 1000,
    },
  });
} finally {
  for (const w of all()) await w.close();
  await sim.close();
}
