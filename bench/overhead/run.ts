// Benchmark 1: instrumentation overhead. The simulator and every variant run in separate
// long-lived, warmed processes, each comparison with processes of its own. A round measures each
// comparison as two adjacent blocks of calls — the variant's and its baseline's, in alternating
// order — so a pair is a second apart and shares the machine's state; every process runs at the same
// cadence; the ratio's interval is recomputed after every round, and a mode stops once every
// interval is within the target or its time budget is spent.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { spawnChild, type Child } from '../lib/child.ts';
import { writeResult } from '../lib/results.ts';
import { controlReading, medianCI, summarize, type Estimate, type Summary } from '../lib/stats.ts';
import type { InFlightResult, MemoryResult } from './memory.ts';
import { roundSchedule, type Pair } from './schedule.ts';
import { BASELINE, CONTROLS, SPIN_US, VARIANTS, type Variant } from './variants.ts';
import type { RoundRequest, RoundResult } from './worker.ts';

/** What `--variants` may name: the instrumented variants (their baselines run with them) and the controls. */
const COMPARED: readonly Variant[] = [...VARIANTS.filter((v) => BASELINE[v] !== v), ...CONTROLS];
const OPTIONS = {
  'stream-calls': { type: 'string', default: '8', help: 'streamed calls per block' },
  'nonstream-calls': { type: 'string', default: '100', help: 'non-streamed calls per block' },
  'stream-concurrency': { type: 'string', default: '8', help: 'streamed calls in flight at once in a block' },
  'nonstream-concurrency': { type: 'string', default: '1', help: 'non-streamed calls in flight at once in a block' },
  chunks: { type: 'string', default: '200', help: 'one-token chunks per streamed call' },
  'stream-seconds': { type: 'string', default: '240', help: 'time budget of the streamed rounds' },
  'nonstream-seconds': { type: 'string', default: '90', help: 'time budget of the non-streamed rounds' },
  'min-rounds': { type: 'string', default: '12', help: 'rounds before the target may stop a mode' },
  'max-rounds': { type: 'string', default: '400', help: 'rounds at most per mode' },
  target: { type: 'string', default: '0.02', help: 'stop a mode once every ratio\'s 95 % CI half-width ÷ ratio is at most this' },
  warmup: { type: 'string', default: '2', help: 'discarded blocks per worker process and mode' },
  'warmup-calls': { type: 'string', default: '200', help: 'calls of each discarded block (at least the measured blocks\' size)' },
  processes: { type: 'string', default: '4', help: 'worker processes per side of each comparison, used in turn' },
  'memory-calls': { type: 'string', default: '20000', help: 'streamed calls of the memory-growth check (0: the memory checks are left out)' },
  'in-flight': { type: 'string', default: '200', help: 'streamed calls held open at once for the heap per call in flight' },
  variants: { type: 'string', default: COMPARED.join(','), help: 'instrumented variants and controls compared (comma-separated; their baselines run too)' },
  modes: { type: 'string', default: 'stream,nonstream', help: 'modes measured (comma-separated)' },
  help: { type: 'boolean', default: false, help: 'print this' },
} as const;
const { values: args } = parseArgs({ options: OPTIONS });
if (args.help) {
  console.log('node bench/overhead/run.ts [options]   (writes bench/results/overhead.json)');
  for (const [name, o] of Object.entries(OPTIONS)) console.log(`  --${name}${o.type === 'string' ? ` <${o.default}>` : ''}  ${o.help}`);
  process.exit(0);
}
const num = (name: keyof typeof OPTIONS) => Number(args[name]);
/**
 * Worker processes per side of each comparison: a process keeps its JIT decisions and heap layout
 * for its whole life (two processes of the same bare SDK differed by up to ±10 % over 8 rounds under
 * load; in one run, the two process pairs of a comparison ×0.97 and ×1.26), so the rounds use them
 * in turn and the interval resamples the processes too (`ciOf`). Every comparison has processes of its own, baselines
 * included: how often a process runs a block decides the state of its heap (bench/README.md, ninth
 * look), so a baseline shared by several comparisons would run in another state than its variants.
 */
const processes = num('processes');
const chunks = num('chunks');
/**
 * Calls in flight in a block. Streamed: 8, so that the client is not woken from idle for every
 * chunk (that cost dominated and varied by ±25 % per call); non-streamed: one at a time, as 8 in
 * flight gave no narrower intervals.
 */
const CONCURRENCY: Record<'stream' | 'nonstream', number> = { stream: num('stream-concurrency'), nonstream: num('nonstream-concurrency') };
/**
 * V8 flags of every worker process. A process waits tens of seconds between its blocks (one block
 * per `--processes` rounds), and V8's memory reducer collects an idle process and shrinks its heap
 * meanwhile, differently in each process: with it, four openai 6 processes per side came out *cheaper*
 * with OpenLLMetry or OpenLIT than bare (×0.85, ×0.84, every process pair below 1), without it ×1.09
 * and ×1.16. A service under load never idles long enough for it (bench/README.md, ninth look).
 */
const WORKER_FLAGS = ['--no-memory-reducer'];
/** Worker processes warming up at once: the warm-up is discarded, and one process at a time took minutes. */
const WARM_UP_LANES = 4;
const target = num('target');
const here = (file: string) => new URL(file, import.meta.url).pathname;

type Mode = 'stream' | 'nonstream';
const CALLS: Record<Mode, number> = { stream: num('stream-calls'), nonstream: num('nonstream-calls') };
const SECONDS: Record<Mode, number> = { stream: num('stream-seconds'), nonstream: num('nonstream-seconds') };

/**
 * What is compared: each instrumented variant with the bare SDK of its version, and one bare
 * process with another of the same SDK (A/A: the same code, so its ratio is 1 but for the noise
 * and process-to-process differences; its interval is the resolution of the run).
 */
const chosen = args.variants.split(',').map((v) => v.trim());
for (const v of chosen) if (!(COMPARED as readonly string[]).includes(v)) throw new Error(`--variants: ${v} is neither an instrumented variant nor a control (${COMPARED.join(', ')})`);
const PAIRS: Pair<Variant>[] = [
  { variant: 'openai7', baseline: 'openai7', aa: true },
  ...COMPARED.filter((v) => chosen.includes(v)).map((v) => ({ variant: v, baseline: BASELINE[v], aa: false })),
];
const MODES = args.modes.split(',').map((m) => m.trim()) as Mode[];
for (const m of MODES) if (m !== 'stream' && m !== 'nonstream') throw new Error(`--modes: ${m} is neither stream nor nonstream`);
const pairName = (p: Pair<Variant>) => (p.aa ? `${p.variant} (A/A)` : p.variant);

interface ModeResult {
  /** Per call, one sample per block. */
  cpuUsPerCall: Summary;
  wallMsPerCall: Summary;
  cpuUsPerChunk: Summary | null;
  /**
   * All CPU of the variant's processes from their first measured block to their last, idle time
   * between blocks included, ÷ the calls measured: catches background work a block leaves behind.
   */
  cpuUsPerCallAllIn: number;
  /** read(2) calls per call: the network pattern each variant saw. */
  readsPerCall: Summary;
  /** Per call, one sample per block: CPU of the process's threads other than the main one (V8's compiler and GC workers). */
  otherThreadsCpuUsPerCall: Summary;
  /** Per block: the collections that started in it (worker.ts `gcs`), scavenges and the rest. */
  scavengesPerBlock: Summary;
  otherCollectionsPerBlock: Summary;
  spansPerCall: number | null;
}
interface Comparison {
  variant: Variant;
  baseline: Variant;
  /** Two processes of the same bare SDK. */
  aa: boolean;
  mode: Mode;
  /** median(variant) ÷ median(baseline) over all their blocks. */
  cpuRatio: number;
  wallRatio: number;
  /** Per round: the variant's block ÷ its baseline's adjacent block. */
  pairedCpuRatio: Summary;
  /** The same, round by round, whether the variant's block ran first and on which of the pair's processes (to recompute or re-analyse). */
  rounds: PairedRound[];
  /**
   * Their median with its 95 % bootstrap interval, over the processes and the rounds within them
   * (lib/stats.ts `medianCI` with clusters): a process keeps an offset of its own for its whole life.
   */
  pairedCpuRatioCI: Estimate;
  /** Median paired ratio of each of the pair's processes (index = process): their spread is what the processes add. */
  byProcess: number[];
  /** (high − low) ÷ 2 ÷ value. */
  ciHalfWidth: number;
  /**
   * Median paired ratio of the rounds where the variant's block ran first, and of those where it
   * ran second: apart by more than the noise, they show an order effect (the alternation cancels it).
   */
  byOrder: { variantFirst: number; baselineFirst: number };
  minCpuRatio: number;
  /** Ratio of the two variants' `cpuUsPerCallAllIn`: apart from the block figures, work escaped the blocks. */
  allInCpuRatio: number;
  /**
   * A control (`openai7+spin`): the ratio its known added CPU should give, (baseline + SPIN_US) ÷
   * baseline at the baseline's median CPU per call; the run resolves it when the interval holds it.
   */
  expectedCpuRatio?: number;
  addedCpuUsPerCall: number;
  addedCpuUsPerChunk: number | null;
}
interface ModeRun {
  rounds: number;
  seconds: number;
  stoppedBy: 'target' | 'time' | 'max-rounds';
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

function check(variant: Variant, mode: Mode, r: RoundResult, calls = CALLS[mode]): void {
  const expectedChunks = mode === 'stream' ? calls * chunks : calls;
  if (r.outputChunks !== expectedChunks) throw new Error(`${variant} ${mode}: read ${r.outputChunks} chunks, expected ${expectedChunks}`);
  // An instrumented variant that exported no span per call measured nothing.
  if (r.spans !== null && r.spans < calls) throw new Error(`${variant} ${mode}: ${r.spans} spans for ${calls} calls`);
}

interface PairedRound {
  ratio: number;
  variantFirst: boolean;
  process: number;
}
const ciOf = (rounds: readonly PairedRound[]) => {
  const est = medianCI(
    rounds.map((r) => r.ratio),
    0.95,
    2000,
    1,
    rounds.map((r) => r.process),
  );
  return { est, halfWidth: (est.high - est.low) / 2 / est.value };
};

/** The heap growth over many calls with LLM Prism, and the heap per call in flight (bare and with LLM Prism). */
async function memoryAndInFlight() {
  console.log(`  memory: ${num('memory-calls').toLocaleString('en')} calls with LLM Prism…`);
  const mem = spawnChild(here('./memory.ts'), ['openai7+prism', baseURL], ['--expose-gc']);
  await mem.next();
  const memoryRequest = { calls: num('memory-calls'), checkpoints: 10, concurrency: 16, chunks: 3 };
  const memory = await mem.ask<MemoryResult>(memoryRequest);
  await mem.close();
  const first = memory.checkpoints[1];
  const last = memory.checkpoints.at(-1);
  if (first === undefined || last === undefined) throw new Error('no memory checkpoints');

  // Heap per call in flight, bare SDK and with LLM Prism, each in a fresh process.
  const inFlightRequest = { inFlight: num('in-flight'), holdMs: 3000 };
  const inFlight: Record<string, number> = {};
  for (const v of ['openai7', 'openai7+prism'] as const) {
    const child = spawnChild(here('./memory.ts'), [v, baseURL], ['--expose-gc']);
    await child.next();
    await child.ask<InFlightResult>(inFlightRequest); // warm-up: pools, JIT, caches
    inFlight[v] = (await child.ask<InFlightResult>(inFlightRequest)).bytesPerCall;
    await child.close();
  }

  return { memoryRequest, memory, first, last, inFlightRequest, inFlight };
}

const sim = spawnChild(here('./simulator-process.ts'));
const { baseURL } = await sim.next<{ baseURL: string }>();
/** A worker process: the variant it runs, and the comparison and side it runs them for. */
interface Worker {
  variant: Variant;
  pair: string;
  side: 'variant' | 'baseline';
  child: Child;
}
/** By `<pair>/<side>/<index>`. */
const workers = new Map<string, Worker>();
const workerKey = (pair: Pair<Variant>, side: Worker['side'], index: number) => `${pairName(pair)}/${side}/${index}`;
const all = () => [...workers.values()].map((w) => w.child);
try {
  for (const pair of PAIRS) {
    for (const side of ['variant', 'baseline'] as const) {
      for (let index = 0; index < processes; index++) {
        const child = spawnChild(here('./worker.ts'), [pair[side], baseURL], WORKER_FLAGS);
        workers.set(workerKey(pair, side, index), { variant: pair[side], pair: pairName(pair), side, child });
      }
    }
  }
  await Promise.all(all().map((w) => w.next()));
  /** Every measured block, per variant and mode. */
  const blocks = new Map<string, RoundResult[]>();
  /**
   * Per worker process and mode: CPU since start at its first measured block's start and at its
   * last block's end, and the calls in between (for the figure that includes work after blocks).
   */
  interface CpuSpan {
    worker: Worker;
    mode: Mode;
    from: number;
    to: number;
    calls: number;
  }
  const cpuSpans = new Map<string, CpuSpan>();
  /** Per pair and mode, the paired ratio of each round. */
  const paired = new Map<string, PairedRound[]>();
  const runs = {} as Record<Mode, ModeRun>;
  for (const mode of MODES) {
    const request: RoundRequest = { mode, calls: CALLS[mode], chunks, concurrency: CONCURRENCY[mode] };
    const ask = async (v: Variant, w: Child) => {
      const r = await w.ask<RoundResult>(request);
      check(v, mode, r);
      return r;
    };
    // Warm-up (JIT, connection pool, heap sizes), discarded, in large blocks: a process's CPU per
    // streamed call falls from about 23 ms over its first 16 calls to 8–9 ms after a few hundred
    // (V8 compiling the hot code, much of it on its worker threads, whose CPU the blocks count),
    // and an instrumented process has more code to compile: two 8-call blocks left every process
    // in that phase and inflated the instrumented ratios (openai7+prism ×1.43 with them, ×1.29
    // after 40 such blocks, same machine, back to back).
    // Discarded, so several processes warm up at once.
    const warmUp: RoundRequest = { ...request, calls: Math.max(CALLS[mode], num('warmup-calls')) };
    const toWarm = [...workers.values()];
    const warmLane = async () => {
      for (let w = toWarm.shift(); w; w = toWarm.shift()) {
        for (let i = 0; i < num('warmup'); i++) check(w.variant, mode, await w.child.ask<RoundResult>(warmUp), warmUp.calls);
      }
    };
    await Promise.all(Array.from({ length: WARM_UP_LANES }, warmLane));
    const loadAverageBefore = loadavg();
    const t0 = performance.now();
    let stoppedBy: ModeRun['stoppedBy'] = 'max-rounds';
    let round = 0;
    while (round < num('max-rounds')) {
      for (const { pair, process: index, variantFirst } of roundSchedule(round, PAIRS, processes)) {
        const vw = (workers.get(workerKey(pair, 'variant', index)) as Worker).child;
        const bw = (workers.get(workerKey(pair, 'baseline', index)) as Worker).child;
        const first = variantFirst ? await ask(pair.variant, vw) : await ask(pair.baseline, bw);
        const second = variantFirst ? await ask(pair.baseline, bw) : await ask(pair.variant, vw);
        const [v, b] = variantFirst ? [first, second] : [second, first];
        const key = `${pairName(pair)}/${mode}`;
        paired.set(key, [...(paired.get(key) ?? []), { ratio: v.cpuUs / b.cpuUs, variantFirst, process: index }]);
        for (const [name, r, side] of [[pair.variant, v, 'variant'], [pair.baseline, b, 'baseline']] as const) {
          blocks.set(`${name}/${mode}`, [...(blocks.get(`${name}/${mode}`) ?? []), r]);
          const worker = workers.get(workerKey(pair, side, index)) as Worker;
          const k = `${workerKey(pair, side, index)}/${mode}`;
          const seen = cpuSpans.get(k);
          cpuSpans.set(k, { worker, mode, from: seen?.from ?? r.cpuSinceStartUs.atStart, to: r.cpuSinceStartUs.atEnd, calls: (seen?.calls ?? 0) + CALLS[mode] });
        }
      }
      round++;
      const widths = PAIRS.map((pair) => ciOf(paired.get(`${pairName(pair)}/${mode}`) as PairedRound[]).halfWidth);
      const seconds = (performance.now() - t0) / 1000;
      console.log(`  ${mode} round ${round}: ${seconds.toFixed(0)} s, widest CI ±${(Math.max(...widths) * 100).toFixed(1)} %`);
      if (round >= num('min-rounds') && widths.every((w) => w <= target)) {
        stoppedBy = 'target';
        break;
      }
      if (seconds >= SECONDS[mode]) {
        stoppedBy = 'time';
        break;
      }
    }
    runs[mode] = { rounds: round, seconds: (performance.now() - t0) / 1000, stoppedBy, loadAverageBefore, loadAverageAfter: loadavg() };
  }

  /** All-in CPU per call of the processes `matches` picks, in one mode. */
  const allIn = (mode: Mode, matches: (w: Worker) => boolean) => {
    const ps = [...cpuSpans.values()].filter((s) => s.mode === mode && matches(s.worker));
    return ps.reduce((sum, s) => sum + s.to - s.from, 0) / ps.reduce((sum, s) => sum + s.calls, 0);
  };
  const results: Record<string, ModeResult> = {};
  for (const [key, rs] of blocks) {
    const mode = key.split('/')[1] as Mode;
    const calls = CALLS[mode];
    const cpu = rs.map((r) => r.cpuUs / calls);
    results[key] = {
      cpuUsPerCall: summarize(cpu),
      wallMsPerCall: summarize(rs.map((r) => r.wallMs / calls)),
      cpuUsPerChunk: mode === 'stream' ? summarize(cpu.map((c) => c / chunks)) : null,
      cpuUsPerCallAllIn: allIn(mode, (w) => w.variant === key.split('/')[0]),
      readsPerCall: summarize(rs.map((r) => r.reads / calls)),
      otherThreadsCpuUsPerCall: summarize(rs.map((r) => r.threadsCpuUs.others / calls)),
      scavengesPerBlock: summarize(rs.map((r) => r.gcs.scavenges)),
      otherCollectionsPerBlock: summarize(rs.map((r) => r.gcs.others)),
      spansPerCall: rs[0]?.spans === null ? null : rs.reduce((s, r) => s + (r.spans ?? 0), 0) / (rs.length * calls),
    };
  }
  const comparisons: Comparison[] = [];
  for (const mode of MODES) {
    for (const pair of PAIRS) {
      const a = results[`${pair.variant}/${mode}`] as ModeResult;
      const b = results[`${pair.baseline}/${mode}`] as ModeResult;
      const rounds = paired.get(`${pairName(pair)}/${mode}`) as PairedRound[];
      const ratios = rounds.map((r) => r.ratio);
      const { est, halfWidth } = ciOf(rounds);
      const medianOf = (pick: (r: PairedRound) => boolean) => summarize(rounds.filter(pick).map((r) => r.ratio)).median;
      const added = a.cpuUsPerCall.median - b.cpuUsPerCall.median;
      comparisons.push({
        variant: pair.variant,
        baseline: pair.baseline,
        aa: pair.aa,
        mode,
        cpuRatio: a.cpuUsPerCall.median / b.cpuUsPerCall.median,
        wallRatio: a.wallMsPerCall.median / b.wallMsPerCall.median,
        pairedCpuRatio: summarize(ratios),
        rounds,
        pairedCpuRatioCI: est,
        byProcess: Array.from({ length: processes }, (_, p) => medianOf((r) => r.process === p)),
        ciHalfWidth: halfWidth,
        byOrder: { variantFirst: medianOf((r) => r.variantFirst), baselineFirst: medianOf((r) => !r.variantFirst) },
        minCpuRatio: a.cpuUsPerCall.min / b.cpuUsPerCall.min,
        // Of this comparison's own processes.
        allInCpuRatio: allIn(mode, (w) => w.pair === pairName(pair) && w.side === 'variant') / allIn(mode, (w) => w.pair === pairName(pair) && w.side === 'baseline'),
        ...((CONTROLS as readonly Variant[]).includes(pair.variant) && { expectedCpuRatio: 1 + SPIN_US / b.cpuUsPerCall.median }),
        addedCpuUsPerCall: added,
        addedCpuUsPerChunk: mode === 'stream' ? added / chunks : null,
      });
    }
  }
  for (const w of all()) await w.close();
  workers.clear();
  for (const c of comparisons) {
    if (c.expectedCpuRatio === undefined) continue;
    const e = c.pairedCpuRatioCI;
    const verdict = { outside: 'OUTSIDE the interval', found: 'inside the interval, told apart from 1', unresolved: 'inside the interval, but so is 1' }[controlReading(e, c.expectedCpuRatio)];
    console.log(`  control ${c.variant} (${c.mode}, +${SPIN_US} µs a call): expected ×${c.expectedCpuRatio.toFixed(3)}, measured ×${e.value.toFixed(3)} [${e.low.toFixed(3)}, ${e.high.toFixed(3)}]: ${verdict}`);
  }

  // `--memory-calls 0`: the memory checks are left out (a quick comparison of a few variants).
  const memoryChecks = num('memory-calls') > 0 ? await memoryAndInFlight() : null;
  await writeResult('overhead', {
    chunksPerStreamedCall: chunks,
    callsPerRound: CALLS,
    concurrency: CONCURRENCY,
    processesPerSide: processes,
    /** Discarded blocks per worker process and mode before its first measured one, and their calls. */
    warmUp: { blocks: num('warmup'), calls: num('warmup-calls') },
    target,
    runs,
    results,
    comparisons,
    memory: memoryChecks && {
      variant: 'openai7+prism',
      ...memoryChecks.memoryRequest,
      ...memoryChecks.memory,
      // From the first checkpoint (warm: pools, JIT, caches filled) to the last.
      growthBytes: memoryChecks.last.heapUsedBytes - memoryChecks.first.heapUsedBytes,
      growthBytesPerThousandCalls: ((memoryChecks.last.heapUsedBytes - memoryChecks.first.heapUsedBytes) / (memoryChecks.last.calls - memoryChecks.first.calls)) * 1000,
    },
    inFlight: memoryChecks && { ...memoryChecks.inFlightRequest, heapBytesPerCall: memoryChecks.inFlight },
  });
} finally {
  for (const w of all()) await w.close();
  await sim.close();
}
