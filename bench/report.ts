// Renders BENCHMARKS.md from bench/results/*.json. Run alone (`node bench/report.ts`) to
// re-render without re-measuring.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Machine } from './lib/machine.ts';
import { readResult, ROOT } from './lib/results.ts';
import { controlReading, separated, type Estimate, type Summary } from './lib/stats.ts';

interface MachineResult extends Machine {
  finishedAt: string;
  loadAverageBefore: number[];
  command: string;
  runs: { benchmark: string; command: string; seconds: number }[];
}
interface OverheadResult extends Provenance {
  chunksPerStreamedCall: number;
  callsPerRound: { stream: number; nonstream: number };
  concurrency: { stream: number; nonstream: number };
  processesPerSide: number;
  /** Absent in results written before it was recorded. */
  warmUp?: { blocks: number; calls: number };
  target: number;
  /** A mode left out of the run (`run.ts --modes`) is absent. */
  runs: Partial<Record<'stream' | 'nonstream', { rounds: number; seconds: number; stoppedBy: string; loadAverageBefore: number[]; loadAverageAfter: number[] }>>;
  results: Record<
    string,
    {
      cpuUsPerCall: Summary;
      cpuUsPerCallAllIn: number;
      wallMsPerCall: Summary;
      cpuUsPerChunk: Summary | null;
      readsPerCall: Summary;
      spansPerCall: number | null;
      /** Absent in results written before they were recorded. */
      scavengesPerBlock?: Summary;
      otherCollectionsPerBlock?: Summary;
    }
  >;
  comparisons: {
    variant: string;
    baseline: string;
    aa: boolean;
    mode: 'stream' | 'nonstream';
    cpuRatio: number;
    wallRatio: number;
    pairedCpuRatio: Summary;
    pairedCpuRatioCI: Estimate;
    ciHalfWidth: number;
    byOrder: { variantFirst: number | null; baselineFirst: number | null };
    /** Absent in results written before it was recorded. */
    byProcess?: (number | null)[];
    minCpuRatio: number;
    allInCpuRatio: number;
    /** Controls only (bench/overhead/variants.ts `CONTROLS`): the ratio their known added CPU should give. */
    expectedCpuRatio?: number;
    addedCpuUsPerCall: number;
    addedCpuUsPerChunk: number | null;
  }[];
  /** null when the run left the memory checks out (`run.ts --memory-calls 0`). */
  memory: {
    variant: string;
    calls: number;
    concurrency: number;
    chunks: number;
    failures: number;
    spans: number | null;
    checkpoints: { calls: number; heapUsedBytes: number; rssBytes: number; elapsedMs: number }[];
    growthBytes: number;
    growthBytesPerThousandCalls: number;
  } | null;
  inFlight: { inFlight: number; holdMs: number; heapBytesPerCall: Record<string, number> } | null;
}
interface DirectSummary {
  rowsPerInsert: Summary;
  /** CPU time of the inserting process per row, per round. */
  cpuMicrosPerRow?: Summary;
  rowsPerSecond: Summary;
  insertMs: Summary;
}
interface IngestResult extends Provenance {
  roundSeconds: number;
  rounds: number;
  exportConcurrency: number;
  ingest: {
    spansPerSecond: Summary;
    /** CPU time per span of all the ingest process's threads (chDB's too), and of the exporter's, per round. */
    serverCpuMicrosPerSpan?: Summary;
    mainThreadCpuMicrosPerSpan?: Summary;
    decodeCpuMicrosPerSpan?: Summary;
    exporterCpuMicrosPerSpan?: Summary;
    /** Spans the exporter made before the rounds, and inside them once those ran out. */
    premadeSpans?: number;
    spansMadeInRounds?: number;
    requestLatencyMs: Summary;
    rowsPerInsert: Summary;
    /** Mean insert time per round, and the share of the round an insert was running. */
    insertMs?: Summary;
    insertingShare?: Summary;
    failedSpans: number;
    requestsByStatus: Record<string, number>;
    rssMaxBytes: number;
    rssEndBytes: number;
    /** Max and p99 of the ingest process's event-loop delay, one value per round. */
    loopDelayMaxMs?: Summary;
    loopDelayP99Ms?: Summary;
    /** The most main-thread CPU time between two ticks of a 5 ms timer, per round. */
    loopBusyMaxMs?: Summary;
    acknowledged: number;
    stored: number;
  };
  /** One large request alone, /healthz polled meanwhile. */
  bigRequest?: { spans: number; ms: number; loopDelayMaxMs: number; loopDelayP99Ms: number; loopBusyMaxMs: number; healthzMs: Summary };
  limit: DirectSummary;
  sameBatch: DirectSummary;
  /** What the cores allow at the measured CPU per span (bench/ingest/run.ts). */
  cpuBound?: {
    cores: number;
    loadAverage?: [number, number];
    ingestCoresUsed: Summary;
    limitCoresUsed: Summary;
    ingestOverheadMicrosPerSpan: number;
    cpuPerSpanOverLimit?: number;
    ceilingSpansPerSecond: number;
    ceilingRatio: number;
    overheadMicrosPerSpanForRatio08: number;
  };
  ratio: number;
  pairedRatio: Summary;
  sameBatchRatio: number;
}
interface QueriesResult extends Provenance {
  requestedCalls: number;
  calls: number;
  days: number;
  /** null: the run reused data generated before (`--data-dir`). */
  generationSeconds: number | null;
  generationCallsPerSecond: number | null;
  otelTracesParts: number;
  tables?: { table: string; rows: number; bytes: number; bytesPerCall: number }[];
  reps: number;
  minReps: number;
  queryBudgetSeconds: number;
  rawRepeatBelowMs: number;
  rawReps: number;
  rawBudgetSeconds: number;
  measurements: {
    query: string;
    kind: string;
    range: string;
    rows: number;
    derivedMs: Summary;
    rawMs: Summary | null;
    rawResult: string | null;
    speedup: number | null;
  }[];
}

const f = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number) => `${f(bytes / 1024 / 1024, 1)} MiB`;
const spread = (s: Summary, digits = 0) => `${f(s.median, digits)} (IQR ${f(s.p25, digits)}–${f(s.p75, digits)}, range ${f(s.min, digits)}–${f(s.max, digits)})`;
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : ((s[Math.floor((s.length - 1) / 2)] as number) + (s[Math.ceil((s.length - 1) / 2)] as number)) / 2;
};

interface RequestLatencyResult extends Provenance {
  rounds: number;
  callsPerRound: number;
  results: {
    promptBytes: number;
    bare: { toHeadersMs: Summary; toBodySentMs: Summary };
    prism: { toHeadersMs: Summary; toBodySentMs: Summary };
    addedToHeadersMs: number;
    addedToBodySentMs: number;
  }[];
}

function requestLatencySection(r: RequestLatencyResult): string {
  const size = (b: number) => (b >= 1024 * 1024 ? `${f(b / 1024 / 1024)} MiB` : `${f(b / 1024)} KiB`);
  const cell = (s: Summary) => `${f(s.median, 2)} (IQR ${f(s.p25, 2)}–${f(s.p75, 2)}, range ${f(s.min, 2)}–${f(s.max, 2)})`;
  const added = (ms: number) => `${ms >= 0 ? '+' : ''}${f(ms, 2)} ms`;
  return [
    '## 4. Latency added to the request, by prompt size',
    '',
    'How long after the application calls `chat.completions.create()` its request reaches the socket, bare openai 7 vs openai 7 with LLM Prism',
    '(default config: content capture off, wire recognition on). Each variant runs in its own process against the simulator in a third;',
    `${r.rounds} rounds alternate the two variants (rotating which goes first), each round ${r.callsPerRound} sequential non-streamed calls per prompt size`,
    "(one user message of that many bytes), after 2 warm-up calls per size. Per call, from just before `create()` to undici's",
    '`undici:client:sendHeaders` (the request on the wire) and `undici:request:bodySent` (its last body byte handed to the socket), in ms.',
    'The call span starts on entry to `create()` and the prompt-cache fingerprint (canonical JSON and SHA-256 of the prompt) is computed',
    'when the call is classified after its response, from a structural snapshot of the params (strings shared, not copied), so what is',
    "left on the request's path is O(objects in the request), not O(bytes).",
    'Noise: the machine is shared; compare the added median with the bare IQR of the same size — a difference inside it is not a measured',
    "cost, and a negative one is noise. Differences at 4 MiB are dominated by GC pauses and by the SDK's own `JSON.stringify` of the body.",
    '',
    table(
      ['prompt', 'bare: to headers ms, median (IQR, range)', 'LLM Prism: to headers ms', 'added (medians)', 'bare: to body sent ms', 'LLM Prism: to body sent ms', 'added (medians)', 'samples per variant'],
      r.results.map((x) => [
        size(x.promptBytes),
        cell(x.bare.toHeadersMs),
        cell(x.prism.toHeadersMs),
        added(x.addedToHeadersMs),
        cell(x.bare.toBodySentMs),
        cell(x.prism.toBodySentMs),
        added(x.addedToBodySentMs),
        f(x.bare.toHeadersMs.n),
      ]),
    ),
  ].join('\n');
}

interface Provenance {
  benchmark: string;
  argv: string[];
  finishedAt: string;
}

function machineSection(m: MachineResult, provenance: Provenance[]): string {
  const origin = (p: Provenance) => {
    const command = `node bench/${p.benchmark}/run.ts ${p.argv.join(' ')}`.trim();
    const run = m.runs.find((r) => r.command === command && r.benchmark === p.benchmark);
    return { command, note: run ? `${p.benchmark}: ${f(run.seconds)} s within \`npm run bench\`` : `${p.benchmark}: run on its own, finished ${p.finishedAt}` };
  };
  return [
    '## Machine and versions',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${m.cpuModel}, ${m.cores} cores (shared with other engineers' test runs while measuring)`],
        ['Memory', mb(m.memoryBytes)],
        ['OS', m.os],
        ['Node', m.node],
        ['Load average (1/5/15 min) before → after', `${m.loadAverageBefore.map((x) => f(x, 2)).join(' / ')} → ${m.loadAverage.map((x) => f(x, 2)).join(' / ')}`],
      ],
    ),
    '',
    table(['package', 'version'], Object.entries(m.versions).map(([p, v]) => [`\`${p}\``, v])),
    '',
    '## Commands',
    '',
    '```sh',
    `npm run bench            # = ${m.command}; installs bench/peers on first run; ${f(m.runs.reduce((t, r) => t + r.seconds, 0))} s in the last run`,
    '# the results below come from:',
    ...provenance.map(origin).map((o) => `${o.command.padEnd(58)} # ${o.note}`),
    'node bench/report.ts     # re-render this file from bench/results/*.json',
    '```',
    '',
    'Every benchmark also runs alone with the command shown; flags and defaults are listed in bench/README.md.',
  ].join('\n');
}

const ci = (e: Estimate, digits = 3) => `[${f(e.low, digits)}, ${f(e.high, digits)}]`;

/** LLM Prism on the peers' openai against each peer: told apart by the run, or inside its noise. */
type OverheadComparison = OverheadResult['comparisons'][number];

/** What a paired ratio's interval says: against 1 (no cost), and against the ×1.05 goal. */
function verdict(c: OverheadComparison): string {
  const e = c.pairedCpuRatioCI;
  if (c.aa) return e.low <= 1 && e.high >= 1 ? 'resolution of this run (contains 1, as it should)' : '**does not contain 1: a process-to-process difference beyond this interval**';
  if (c.expectedCpuRatio !== undefined) {
    const expected = `control: its known added CPU reads ×${f(c.expectedCpuRatio, 3)}`;
    const reading = controlReading(e, c.expectedCpuRatio);
    if (reading === 'outside') return `**${expected}, outside the interval: the run misreads a known cost**`;
    return reading === 'found' ? `${expected}, inside the interval and told apart from 1 (the run finds a known cost)` : `${expected}, inside the interval, **but so is 1: the run cannot tell a cost this size from none**`;
  }
  const vsOne = e.low <= 1 ? 'inside the noise: not told apart from the bare SDK' : e.high <= 1.05 ? 'above 1, **within ×1.05**' : e.low > 1.05 ? '**above ×1.05**' : 'above 1; ×1.05 inside the interval (undecided)';
  return e.high < 1 ? '**below 1**: cheaper than the bare SDK, which no instrumentation can be — a bias of this run' : vsOne;
}

/** LLM Prism against the peers on the same client: openai 6's instrumentations, and the AI SDK's own telemetry. */
const LIKE_FOR_LIKE = [
  { prism: 'openai6+prism', baseline: 'openai6', on: 'openai 6', same: 'the same openai' },
  { prism: 'ai7+prism', baseline: 'ai7', on: 'the AI SDK (`ai` 7)', same: 'the same AI SDK' },
] as const;

function verdicts(o: OverheadResult, mode: 'stream' | 'nonstream'): string[] {
  const lines = LIKE_FOR_LIKE.map((group) => verdictsOn(o, mode, group)).filter((l) => l !== undefined);
  return lines.flatMap((l, i) => (i === 0 ? [l] : ['', l]));
}

function verdictsOn(o: OverheadResult, mode: 'stream' | 'nonstream', group: (typeof LIKE_FOR_LIKE)[number]): string | undefined {
  const prism = o.comparisons.find((c) => c.variant === group.prism && c.mode === mode && !c.aa)?.pairedCpuRatioCI;
  const peers = o.comparisons.filter((c) => c.mode === mode && !c.aa && c.baseline === group.baseline && c.variant !== group.prism);
  if (!prism || peers.length === 0) return undefined;
  return (
    `LLM Prism on ${group.on} (×${f(prism.value, 3)} ${ci(prism)}) against each peer on ${group.same}: ` +
      peers
        .map((c) => {
          const peer = c.pairedCpuRatioCI;
          const v = !separated(prism, peer) ? 'inside the noise (intervals overlap)' : prism.value < peer.value ? '**LLM Prism lower**' : '**the peer lower**';
          return `\`${c.variant}\` ×${f(peer.value, 3)} ${ci(peer)}: ${v}`;
        })
        .join('; ') +
      '.'
  );
}

function overheadSection(o: OverheadResult): string {
  const variantRows = (mode: 'stream' | 'nonstream') =>
    Object.entries(o.results)
      .filter(([k]) => k.endsWith(`/${mode}`))
      .map(([k, r]) => [
        `\`${k.split('/')[0]}\``,
        spread(r.cpuUsPerCall),
        f(r.cpuUsPerCallAllIn),
        ...(mode === 'stream' ? [f(r.cpuUsPerChunk?.median ?? Number.NaN, 1)] : []),
        `${f(r.wallMsPerCall.median, 1)} (${f(r.wallMsPerCall.min, 1)}–${f(r.wallMsPerCall.max, 1)})`,
        f(r.readsPerCall.median, 1),
        r.scavengesPerBlock && r.otherCollectionsPerBlock
          ? `${f(r.scavengesPerBlock.median, 1)} (${f(r.scavengesPerBlock.min)}–${f(r.scavengesPerBlock.max)}) / ${f(r.otherCollectionsPerBlock.median, 1)}`
          : '—',
        r.spansPerCall === null ? '—' : f(r.spansPerCall, 1),
      ]);
  const variantHead = (mode: 'stream' | 'nonstream') => [
    'variant',
    'CPU µs per call: median (IQR, range) over its blocks',
    'CPU µs per call with the work between blocks',
    ...(mode === 'stream' ? ['CPU µs per chunk'] : []),
    'wall ms per call (range)',
    'read(2) calls per call',
    'scavenges per block: median (range) / other collections',
    'spans per call',
  ];
  const comparisonRows = (mode: 'stream' | 'nonstream') =>
    o.comparisons
      .filter((c) => c.mode === mode)
      .map((c) => [
        c.aa ? `\`${c.variant}\` vs another \`${c.baseline}\` process (A/A)` : `\`${c.variant}\` vs \`${c.baseline}\``,
        `**×${f(c.pairedCpuRatioCI.value, 3)}** ${ci(c.pairedCpuRatioCI)} (±${f(c.ciHalfWidth * 100, 1)} %)`,
        `×${f(c.pairedCpuRatio.p25, 3)}–×${f(c.pairedCpuRatio.p75, 3)}`,
        // null in the JSON when a run had rounds of one order only (NaN does not survive JSON).
        `×${f(c.byOrder.variantFirst ?? Number.NaN, 3)} / ×${f(c.byOrder.baselineFirst ?? Number.NaN, 3)}`,
        c.byProcess ? c.byProcess.map((x) => `×${f(x ?? Number.NaN, 3)}`).join(' / ') : '—',
        // Both sides of the A/A run the same variant, whose blocks are summarised together: only the paired ratios tell them apart.
        ...(c.aa
          ? ['—', '—', '—', '—', '—']
          : [
              `×${f(c.cpuRatio, 3)}`,
              `×${f(c.minCpuRatio, 3)}`,
              `×${f(c.allInCpuRatio, 3)}`,
              `${c.addedCpuUsPerCall >= 0 ? '+' : ''}${f(c.addedCpuUsPerCall)} µs${c.addedCpuUsPerChunk === null ? '' : ` (${f(c.addedCpuUsPerChunk, 1)} µs/chunk)`}`,
              `×${f(c.wallRatio, 3)}`,
            ]),
        verdict(c),
      ]);
  const comparisonHead = [
    'comparison',
    'CPU ratio: median of paired ratios [95 % CI] (half-width)',
    'IQR of the paired ratios',
    'median with the variant first / second',
    'median per process pair',
    'ratio of medians',
    'ratio of minima',
    'ratio with the work between blocks',
    'added CPU per call (medians)',
    'wall ratio',
    'what the interval says',
  ];
  const run = (mode: 'stream' | 'nonstream') => {
    const r = o.runs[mode];
    if (r === undefined) return 'not measured in this run.';
    return `${r.rounds} rounds in ${f(r.seconds)} s (stopped by ${r.stoppedBy === 'target' ? `the target: every interval within ±${f(o.target * 100, 1)} %` : r.stoppedBy === 'time' ? 'its time budget' : 'the round limit'}); load average ${f(r.loadAverageBefore[0] ?? 0, 1)} before, ${f(r.loadAverageAfter[0] ?? 0, 1)} after (2 cores).`;
  };
  return [
    '## 1. Instrumentation overhead',
    '',
    'Each comparison runs in long-lived worker processes of its own (' + f(o.processesPerSide) + ' per side, used in turn; no baseline process serves two comparisons, so every process runs one block per ' + f(o.processesPerSide) + ' rounds) against the simulator, which runs in another process (its CPU is not counted).',
    `A block is ${o.callsPerRound.stream} streamed calls of ${o.chunksPerStreamedCall} one-token chunks (\`chunkIntervalMs: 0\`, \`stream_options.include_usage\`) or ${o.callsPerRound.nonstream} non-streamed calls,`,
    `${o.concurrency.stream} streamed calls in flight at once (as in a service under load), non-streamed ${o.concurrency.nonstream === 1 ? 'one at a time' : `${o.concurrency.nonstream} at once`}; the worker's \`process.cpuUsage()\` (user + system, all its threads) and wall time are taken around the block,`,
    `including \`forceFlush()\` of the BatchSpanProcessor, so span processing and export are inside the measurement. Each worker first runs ${o.warmUp ? `${o.warmUp.blocks} discarded warm-up blocks of ${o.warmUp.calls} calls per mode (V8 still compiles the SDK's and the instrumentation's code over the first few hundred calls)` : 'discarded warm-up blocks'},`,
    'and each block is preceded by as many short unmeasured calls as it keeps in flight (a process idles longer than its connections\' keep-alive between blocks).',
    'A round measures every comparison as two adjacent blocks, the variant\'s and its baseline\'s (the bare SDK of the same version), the order within the pair alternating',
    'and the order of the pairs rotating; the process used changes every round. The paired ratio of a round is the variant\'s block ÷ its baseline\'s, a second apart,',
    'which cancels the shared machine\'s slower changes; the headline is the median of the paired ratios with its 95 % percentile-bootstrap interval (2 000 resamplings in two stages: the comparison\'s',
    'process pairs, then each drawn pair\'s rounds — a process keeps an offset of its own for its whole life, which resampling the rounds alone would take for noise that averages out).',
    `After every round the intervals are recomputed; a mode stops once all are within ±${f(o.target * 100, 1)} % of their ratio (at least the minimum number of rounds) or its time budget is spent.`,
    'The A/A comparison pits two processes of the same bare SDK against each other: its interval is the resolution of the run, and it contains 1 unless',
    'the processes themselves differ. An interval that contains 1 says the instrumentation\'s cost is inside the noise; two ratios whose intervals overlap are not told apart.',
    'The medians of the rounds where the variant\'s block ran first and of those where it ran second show any order effect, which the alternation cancels.',
    'Contention from other processes only ever adds CPU time, so the ratio of the minima (the least disturbed blocks) is shown too.',
    'Work a block leaves behind (V8\'s concurrent GC and compilation, the BatchSpanProcessor\'s timer) runs while the process waits for its next block, outside',
    'the block\'s figure; the CPU of each process from its first measured block to its last, idle time included, ÷ its calls catches it',
    '("with the work between blocks"): a ratio of these far from the paired one would say that the blocks miss part of a variant\'s cost.',
    'Streamed: ' + run('stream') + ' Non-streamed: ' + run('nonstream'),
    '',
    'The peers do not support openai 7: the official `@opentelemetry/instrumentation-openai` (openai `>=4.19 <7`, OTel API 1.10) runs from the isolated install',
    '`bench/peers-otel/`, OpenLLMetry (`@traceloop/instrumentation-openai`, openai `>=4 <7`) and OpenLIT (`openlit`) from `bench/peers/` (they need OTel API 1.9 with',
    'sdk-trace-base 2.x), each on openai 6 (the same release in both installs) and compared with bare openai 6 (`bench/peers/`). LLM Prism runs twice: on openai 7',
    '(`openai7+prism` vs bare openai 7) and, like for like with the peers, on `bench/peers/`\' openai 6 (`openai6+prism` vs bare openai 6).',
    'The control `openai7+spin` is bare openai 7 spinning a known amount of main-thread CPU before each request (bench/overhead/variants.ts `SPIN_US`): the run',
    'should read (baseline + that) ÷ baseline, and its verdict says whether the interval holds it — a check of the whole measurement against a cost injected on purpose.',
    'The AI SDK path: `ai` 7 with `@ai-sdk/openai` 4 (`streamText` / `generateText` on the provider\'s chat model, which asks for the usage chunk itself), bare (`ai7`),',
    'with LLM Prism (`ai7+prism`: its calls recognised on the wire) and with the AI SDK\'s own spans (`ai7+telemetry`: `registerTelemetry(new OpenTelemetry())` from',
    '`@ai-sdk/otel`, as its docs set it up, into the same OTel SDK), the peer an AI SDK user has at hand.',
    'Every instrumented variant hands its spans to a BatchSpanProcessor whose exporter counts and discards them (OpenLIT: `openlit.init()` as documented, with the OTLP exporter it',
    'creates swapped for the discarding one); every block checks that the application read every chunk and that each call exported at least one span, and the spans',
    'per call are in the table. Prompt/completion capture is off everywhere (LLM Prism\'s default; OpenLLMetry `traceContent: false`, OpenLIT',
    '`captureMessageContent: false`; the contrib instrumentation by default), OpenLIT\'s metrics and events are off. No peer changes the request',
    '(none sets `stream_options`; the bench sets `include_usage` for every variant) or how the application reads the stream. read(2) calls per call (`/proc/self/io`)',
    'show that every variant saw the same network pattern: a client that falls behind finds several chunks per read and wakes less often, which would make it look cheaper.',
    'Scavenges per block count the young-generation collections that started in each block (a `PerformanceObserver` on `gc`): how V8 sizes a process\'s young generation',
    'depends on how long it idles between blocks, which is why every process runs at one cadence and without the memory reducer (bench/README.md, ninth look);',
    'a ratio between variants whose scavenge counts differ by much holds that difference too.',
    '',
    '### Streamed calls',
    '',
    table(comparisonHead, comparisonRows('stream')),
    '',
    ...verdicts(o, 'stream'),
    '',
    table(variantHead('stream'), variantRows('stream')),
    '',
    '### Non-streamed calls',
    '',
    table(comparisonHead, comparisonRows('nonstream')),
    '',
    ...verdicts(o, 'nonstream'),
    '',
    table(variantHead('nonstream'), variantRows('nonstream')),
    '',
    '**Wall time** per call is the block\'s wall time ÷ its calls (' + f(o.concurrency.stream) + ' streamed calls in flight). A streamed call is paced by the simulator, not by the client: with',
    '`chunkIntervalMs: 0` it still sends each event after a `setTimeout(0)` (≥ 1 ms on Node), so a call of 200 chunks lasts about 250 ms whatever the client does.',
    'A wall ratio near 1 says the instrumented client keeps up with that pace; it is not a measure of the CPU cost, which is the CPU ratio.',
    '',
    ...memorySections(o),
  ].join('\n');
}

/** The overhead run's memory checks, or what stands in for them when the run left them out. */
function memorySections(o: OverheadResult): string[] {
  const m = o.memory;
  const inFlight = o.inFlight;
  if (m === null || inFlight === null) return ['The memory checks were left out of this run (`node bench/overhead/run.ts --memory-calls 0`).'];
  const first = m.checkpoints[1];
  return [
    `### Memory over ${f(m.calls)} calls (LLM Prism)`,
    '',
    `${f(m.calls)} streamed calls (${m.chunks} chunks each, ${m.concurrency} concurrent) in a process started with \`--expose-gc\`; at each checkpoint the calls in flight finish,`,
    `the BatchSpanProcessor is flushed and \`gc()\` runs before \`heapUsed\` is read. ${f(m.spans ?? 0)} spans exported, ${m.failures} failed calls.`,
    '',
    table(
      ['calls', 'heapUsed after GC', 'RSS', 'elapsed s'],
      m.checkpoints.map((c) => [f(c.calls), mb(c.heapUsedBytes), mb(c.rssBytes), f(c.elapsedMs / 1000, 1)]),
    ),
    '',
    `Growth from the first checkpoint (${f(first?.calls ?? 0)} calls, warm) to the last: **${mb(m.growthBytes)}**, ${f(m.growthBytesPerThousandCalls)} bytes per 1 000 calls.`,
    '',
    '### Memory per call in flight',
    '',
    `${f(inFlight.inFlight)} streamed calls open at once, each past its first chunk and waiting ${f(inFlight.holdMs)} ms for the next, in a fresh \`--expose-gc\` process per variant`,
    '(after one warm-up pass of the same): heapUsed after a full GC with all of them in flight, minus the same before they started, ÷ the calls.',
    `Bare openai 7: **${f(inFlight.heapBytesPerCall.openai7 ?? Number.NaN)} bytes** per call in flight; with LLM Prism: **${f(inFlight.heapBytesPerCall['openai7+prism'] ?? Number.NaN)} bytes**,`,
    `so LLM Prism holds about **${f((inFlight.heapBytesPerCall['openai7+prism'] ?? Number.NaN) - (inFlight.heapBytesPerCall.openai7 ?? Number.NaN))} bytes** per call while it is in flight (its open spans and stream state), released when the call ends (growth above).`,
  ];
}

interface ReplayResult extends Provenance {
  stream: { name: string; chunks: number; bytes: number };
  rounds: number;
  callsPerRound: number;
  sdkUsPerCall: Estimate;
  sdkNsPerChunk: Estimate;
  variants: Record<string, { usPerCall: Estimate; nsPerChunk: Estimate; ratioToSdk: Estimate }>;
  callgrind: { calls: number; sdkPerCall: number; prismPerCall: number; prismPerChunk: number; ratioToSdk: number } | null;
  recordings: Record<string, { chunks: number; bytes: number; nsPerChunk: Estimate }>;
}

function replaySection(r: ReplayResult): string {
  const est = (e: Estimate, digits = 0) => `${f(e.value, digits)} ${ci(e, digits)}`;
  const cg = r.callgrind;
  return [
    '## 1b. Replay: the instrumentation\'s own cost, without SDK and network',
    '',
    `\`node bench/replay/run.ts\` feeds a recorded answer — ${r.stream.chunks} SSE events (${f(r.stream.bytes)} bytes) the simulator sent for the streamed call above — in one process and`,
    'without a network, one event per network chunk with its arrival time, through the instrumentation\'s response path (`ResponseReader`, the SSE decoding and',
    'bulk filter, the format\'s stream decoder, `CallRecorder` and its spans to a discarding BatchSpanProcessor: everything the wire taps run per chunk and at the',
    'end of a call; the request side and the SDK patch are not in it), and through the bare SDK\'s stream reader (openai 7 `Stream` over a `Response` body of the same',
    `chunks). ${r.rounds} rounds of ${r.callsPerRound} calls per variant alternate (the order rotates each round); \`process.cpuUsage()\` per round. Medians with`,
    '95 % bootstrap intervals over the rounds; the ratio is (SDK + instrumentation) ÷ SDK per round: what the instrumentation adds to the SDK\'s own work on the',
    'same bytes. In the overhead benchmark above the SDK\'s CPU per chunk is far larger (sockets, undici, the event loop), so the same instrumentation cost is a',
    'smaller share there.',
    '',
    table(
      ['variant', 'CPU µs per call [95 % CI]', 'CPU ns per chunk [95 % CI]', '(SDK + it) ÷ SDK [95 % CI]'],
      [
        ['bare openai 7 `Stream` (the SDK\'s own parsing)', est(r.sdkUsPerCall, 1), est(r.sdkNsPerChunk), '—'],
        ...Object.entries(r.variants).map(([v, x]) => [
          v === 'prism' ? 'LLM Prism (default: no content capture)' : 'LLM Prism with content capture (every event parsed)',
          est(x.usPerCall, 1),
          est(x.nsPerChunk),
          `×${f(x.ratioToSdk.value, 3)} ${ci(x.ratioToSdk)}`,
        ]),
      ],
    ),
    '',
    cg
      ? [
          `**Instruction counts (valgrind callgrind, \`--callgrind\`)**: the same replay, V8 in its predictable mode (\`--predictable --predictable-gc-schedule\`, fixed`,
          `seeds: no background compiler or GC threads, a GC schedule independent of time), each variant run twice after the same 100 warm-up calls, with 0 and`,
          `${cg.calls} measured calls; the difference ÷ ${cg.calls} is the cost of one call.`,
          `openai 7 \`Stream\`: **${f(cg.sdkPerCall)}** instructions per call; LLM Prism: **${f(cg.prismPerCall)}** (${f(cg.prismPerChunk)} per chunk); (SDK + LLM Prism) ÷ SDK`,
          `**×${f(cg.ratioToSdk, 3)}**. Counts do not depend on the machine\'s load, but differ by up to ~3 % from one process to the next on the same code (heap and code`,
          'layout; bench/README.md): a change of the instrumentation\'s path larger than that shows in them, where the CPU-time figures need their intervals to be apart.',
        ].join('\n')
      : 'Instruction counts: not measured in this run (`--callgrind`, needs valgrind).',
    '',
    'The tests\' SSE recordings (tool calls, reasoning, several choices, Responses, Anthropic, Gemini), LLM Prism alone, CPU ns per chunk [95 % CI]:',
    '',
    table(
      ['recording', 'chunks', 'bytes', 'ns per chunk'],
      Object.entries(r.recordings).map(([name, x]) => [`\`${name}\``, f(x.chunks), f(x.bytes), est(x.nsPerChunk)]),
    ),
  ].join('\n');
}

function ingestSection(i: IngestResult): string {
  const direct = (label: string, d: DirectSummary) => [
    label,
    spread(d.rowsPerSecond),
    `insert p50 ${f(d.insertMs.median)} ms, p99 ${f(d.insertMs.p99)} ms`,
    f(d.rowsPerInsert.median),
    d.cpuMicrosPerRow ? `CPU ${f(d.cpuMicrosPerRow.median)} µs per row` : '',
  ];
  return [
    '## 2. Ingest throughput',
    '',
    'The official `@opentelemetry/exporter-trace-otlp-proto` exporter sends batches of 512 fresh spans (8 batches made with the OTel SDK, then copies of their spans\' values with new trace ids and start times; per trace: an HTTP server span,',
    'an LLM call span with the full attribute set of docs/conventions.md, `llm.ttft` ⊃ `llm.queue` with an `llm.http.attempt` event, `llm.decode`; 102 of 512 spans are LLM calls),',
    `${i.exportConcurrency} exports in flight (say, ${i.exportConcurrency} service instances), to \`startIngest\` on embedded chDB in its own process, which answers only after the insert (group commit).`,
    'The limit: the same rows (decoded from the same kind of batches by the ingest package\'s own `otlpToRows`), prepared once and already encoded as JSONEachRow lines, inserted with `storage.insertSpans`',
    'into another chDB directory in another process — in large inserts (the limit), and in inserts of the size the group commit reached in the round before',
    '(which separates the cost of the HTTP/protobuf path from the cost of small inserts). Materialized views (llm_calls, rollups) run on every path.',
    'Every direct insert is of new spans, as ingest\'s are (the buffer with other trace ids and later start times): the same spans again would be cheaper, since storage leaves call spans it already holds out and the views would see no calls. Only the inserts are timed.',
    `Both sides make their load outside the timed work, alike: the direct inserter its new rows before each insert, the exporter each round's span batches before the round (for 1.25 × the fastest limit round so far), with the start times they would have if made as the round goes (spread over its seconds, so the calls stored per second of span time are about what a real sender at that rate makes; made in one go, a round's spans had all started within the ~2 s of making them, and the inserts' reads of the calls stored around their times grew round by round), so that inside a round the exporter only serializes and sends them${i.ingest.spansMadeInRounds ? ` (${f(i.ingest.spansMadeInRounds)} of the spans sent were made inside rounds, after the batches made before ran out)` : ''}; the exporter's CPU per span is of that.`,
    `${i.rounds} rounds of ${i.roundSeconds} s per path, the order of the three rotating, after a 3 s warm-up. Exporter, ingest and direct inserter share the 2 cores.`,
    '',
    table(
      ['path', 'spans/s: median (IQR, range)', 'latency', 'rows per insert', 'memory'],
      [
        [
          'OTLP/protobuf exporter → ingest → chDB',
          spread(i.ingest.spansPerSecond),
          `request p50 ${f(i.ingest.requestLatencyMs.median)} ms, p95 ${f(i.ingest.requestLatencyMs.p95)} ms, **p99 ${f(i.ingest.requestLatencyMs.p99)} ms**, max ${f(i.ingest.requestLatencyMs.max)} ms (${f(i.ingest.requestLatencyMs.n)} exports)`,
          `${f(i.ingest.rowsPerInsert.median)} (group commit)`,
          `ingest process RSS max **${mb(i.ingest.rssMaxBytes)}**, at end ${mb(i.ingest.rssEndBytes)} (chDB runs inside it)${i.ingest.serverCpuMicrosPerSpan && i.ingest.exporterCpuMicrosPerSpan ? `; CPU ${f(i.ingest.serverCpuMicrosPerSpan.median)} µs per span (ingest${i.ingest.mainThreadCpuMicrosPerSpan ? `, of which main thread ${f(i.ingest.mainThreadCpuMicrosPerSpan.median)}` : ''}) + ${f(i.ingest.exporterCpuMicrosPerSpan.median)} µs (exporter)` : ''}`,
        ],
        direct('`storage.insertSpans`, prepared buffer, large inserts (**limit**)', i.limit),
        direct('`storage.insertSpans`, prepared buffer, the group commit\'s insert size', i.sameBatch),
      ],
    ),
    '',
    `**Ingest ÷ limit: ×${f(i.ratio, 2)}** (medians); per pair of neighbouring rounds: **median ×${f(i.pairedRatio.median, 2)}**, IQR ×${f(i.pairedRatio.p25, 2)}–×${f(i.pairedRatio.p75, 2)}, range ×${f(i.pairedRatio.min, 2)}–×${f(i.pairedRatio.max, 2)} (${f(i.pairedRatio.n)} pairs); ingest ÷ direct inserts of the same size: ×${f(i.sameBatchRatio, 2)}.`,
    `Acknowledged spans: ${f(i.ingest.acknowledged)}; in otel_traces at the end: ${f(i.ingest.stored)} (checked after every round: never fewer stored than acknowledged).`,
    `Failed exports: ${f(i.ingest.failedSpans)} spans. Requests by status: ${Object.entries(i.ingest.requestsByStatus).map(([k, v]) => `${k}: ${f(v)}`).join(', ')}.`,
    'Request latency is export() → callback, i.e. until the acknowledgement after storage, including any exporter retry after a 429 from a full queue.',
    ...(i.ingest.loopDelayMaxMs && i.ingest.loopBusyMaxMs
      ? [
          `Event loop of the ingest process during the rounds: **held by its own work at most ${f(i.ingest.loopBusyMaxMs.max)} ms** (the main thread's CPU time between two ticks of a 5 ms timer, garbage collection included; per round ${f(i.ingest.loopBusyMaxMs.min)}–${f(i.ingest.loopBusyMaxMs.max)} ms).`,
          `Its event-loop delay (\`monitorEventLoopDelay\`), which also counts time the process waited for a core on this shared machine: max ${f(i.ingest.loopDelayMaxMs.min)}–${f(i.ingest.loopDelayMaxMs.max)} ms per round, p99 ${f(i.ingest.loopDelayP99Ms?.median ?? 0)} ms (median of rounds).`,
        ]
      : []),
    ...(i.bigRequest
      ? [
          `One request of ${f(i.bigRequest.spans)} spans alone (decoded in a worker thread, rows taken in slices): acknowledged after ${f(i.bigRequest.ms)} ms; meanwhile the loop was **held by own work at most ${f(i.bigRequest.loopBusyMaxMs)} ms**, event-loop delay max ${f(i.bigRequest.loopDelayMaxMs)} ms, p99 ${f(i.bigRequest.loopDelayP99Ms)} ms; \`/healthz\` polled every 10 ms from the benchmark process answered ${f(i.bigRequest.healthzMs.n)} times, p50 ${f(i.bigRequest.healthzMs.median, 1)} ms, max ${f(i.bigRequest.healthzMs.max)} ms.`,
        ]
      : []),
    'Each insert pays a fixed cost (the views\' SELECTs run per inserted block, docs/clickhouse.md), so rows per insert decide most of the throughput.',
    ...(i.ingest.insertMs && i.ingest.insertingShare
      ? [
          `An insert was running **${f(i.ingest.insertingShare.median * 100)} %** of each ingest round (median; ${f(i.ingest.insertingShare.min * 100)}–${f(i.ingest.insertingShare.max * 100)} %), each taking ${f(i.ingest.insertMs.median)} ms (median of the rounds' means) for ${f(i.ingest.rowsPerInsert.median)} rows, where the direct inserter's took ${f(i.sameBatch.insertMs.median)} ms at the same size: ingest is bound by its one-at-a-time inserts, each slower beside the decoding, HTTP and exporter sharing the two cores.`,
        ]
      : []),
    `Ingest acknowledges only after storing, so an insert holds at most the spans in flight (${f(i.exportConcurrency)} × 512 = ${f(i.exportConcurrency * 512)}), and about half of them in a steady state: while one insert runs, the next requests are being received and decoded.`,
    'On two cores the exporter, the decoding and chDB share the CPU that the direct inserter has to itself: the CPU per span above against the limit\'s per row is how much more work a span through OTLP/HTTP is.',
    ...(i.cpuBound && i.ingest.serverCpuMicrosPerSpan && i.ingest.exporterCpuMicrosPerSpan && i.limit.cpuMicrosPerRow ? ['', cpuBoundText(i, i.cpuBound)] : []),
  ].join('\n');
}

/** Where the ingest's CPU goes and what the cores allow at it (medians of the rounds). */
function cpuBoundText(i: IngestResult, b: NonNullable<IngestResult['cpuBound']>): string {
  const decode = i.ingest.decodeCpuMicrosPerSpan?.median;
  const main = i.ingest.mainThreadCpuMicrosPerSpan?.median;
  return [
    `**What the cores allow.** Ingest took ${f(i.ingest.serverCpuMicrosPerSpan!.median, 1)} µs of CPU per span, the limit ${f(i.limit.cpuMicrosPerRow!.median, 1)} µs per row: ${f(Math.abs(b.ingestOverheadMicrosPerSpan), 1)} µs ${b.ingestOverheadMicrosPerSpan < 0 ? 'less (inside the rounds\' spread)' : 'more'} per span${
      decode === undefined ? '' : ` (decode worker threads ${f(decode, 1)} µs: protobuf to JSON lines${main === undefined ? '' : `; main thread ${f(main, 1)} µs: HTTP, group commit, the insert's body`}; the rest chDB's and V8's threads)`
    }.`,
    `The exporter took ${f(i.ingest.exporterCpuMicrosPerSpan!.median, 1)} µs per span on the same cores${b.cpuPerSpanOverLimit === undefined ? '' : `: a span through exporter and ingest takes ×${f(b.cpuPerSpanOverLimit, 2)} the CPU of a row inserted directly`}.`,
    `The ingest path kept ${f(b.ingestCoresUsed.median, 2)} cores busy (ingest and exporter), the direct inserter ${f(b.limitCoresUsed.median, 2)} while inserting (its insert does not keep both busy).`,
    ...(b.cpuPerSpanOverLimit === undefined
      ? []
      : [
          `Keeping as many cores busy as the direct inserter, ingest reaches at most ×${f(1 / b.cpuPerSpanOverLimit, 2)} of the limit (one over that CPU ratio); ×0.8 so would need a span through exporter and ingest to take at most ×1.25 the CPU of a direct row,`,
          `i.e. ingest at most ${f(1.25 * i.limit.cpuMicrosPerRow!.median - i.ingest.exporterCpuMicrosPerSpan!.median, 1)} µs per span with this exporter${1.25 * i.limit.cpuMicrosPerRow!.median - i.ingest.exporterCpuMicrosPerSpan!.median < i.limit.cpuMicrosPerRow!.median ? ', less than the insert alone takes' : ''}; beyond that only by keeping more cores busy than the inserter does.`,
        ]),
    ...(b.loadAverage === undefined ? [] : [`Load average (1 min) when the run started → ended: ${f(b.loadAverage[0], 2)} → ${f(b.loadAverage[1], 2)}.`]),
    // The ceiling assumes the cores are the benchmark's alone: not so when other work held one at the start.
    ...(b.loadAverage !== undefined && b.loadAverage[0] >= 1
      ? [`What the cores would allow ingest with every core its own is not computed for this run: other work held ${f(b.loadAverage[0], 1)} cores' worth when it started.`]
      : [
          `With the ${b.cores} cores to themselves and every core busy all the time, ingest and exporter could reach ${f(b.ceilingSpansPerSecond)} spans/s at these costs, ×${f(b.ceilingRatio, 2)} of the limit;`,
          `×0.8 needs ingest to add at most ${f(b.overheadMicrosPerSpanForRatio08, 1)} µs per span to the insert's own CPU${decode !== undefined && decode > b.overheadMicrosPerSpanForRatio08 ? `, less than its decode workers alone take (${f(decode, 1)} µs)` : ''} (these two hold on an otherwise idle machine).`,
        ]),
  ].join('\n');
}

/** Every panel and alert query should answer within this (issue 15). */
const QUERY_P95_TARGET_MS = 150;

/** The range groups of the scale table: the dashboard ranges, the SLO panels' fixed windows, the alert rules. */
const rangeGroup = (m: QueriesResult['measurements'][number]): string => (m.kind === 'alert' ? 'alert rules' : m.range);

function scaleTable(small: QueriesResult, large: QueriesResult): string {
  const groups = [...new Set(large.measurements.map(rangeGroup))];
  const stats = (q: QueriesResult, g: string) => {
    const p95s = q.measurements.filter((m) => rangeGroup(m) === g).map((m) => m.derivedMs.p95);
    return p95s.length === 0 ? ['—', '—'] : [f(median(p95s), 1), f(Math.max(...p95s), 1)];
  };
  return [
    `How query time grows with the data: the same queries on ${f(small.calls)} and ${f(large.calls)} calls over ${large.days} days (p95 per query, ms).`,
    '',
    table(
      ['range', 'queries', `median p95, ${f(small.calls)}`, `max p95, ${f(small.calls)}`, `median p95, ${f(large.calls)}`, `max p95, ${f(large.calls)}`],
      groups.map((g) => [g, f(large.measurements.filter((m) => rangeGroup(m) === g).length), ...stats(small, g), ...stats(large, g)]),
    ),
  ].join('\n');
}

function tablesTable(q: QueriesResult): string {
  if (q.tables === undefined) return '';
  return [
    `What the tables hold after ${f(q.calls)} calls (active parts on disk; per call = bytes ÷ calls):`,
    '',
    table(
      ['table', 'rows', 'MiB on disk', 'bytes per call'],
      q.tables.map((t) => [t.table, f(t.rows), f(t.bytes / 2 ** 20, 1), f(t.bytesPerCall, 1)]),
    ),
  ].join('\n');
}

function queriesSection(q: QueriesResult, scale: QueriesResult | null): string {
  const scaled = q.calls < q.requestedCalls;
  const slo = q.measurements.filter((m) => m.kind === 'alert' || m.query.startsWith('llm-prism-slo'));
  const sloSpeedups = slo.flatMap((m) => (m.speedup === null ? [] : [m.speedup]));
  const notRun = q.measurements.filter((m) => m.rawMs === null).length;
  const differs = q.measurements.filter((m) => m.rawResult === 'differs');
  const rawFaster = q.measurements.filter((m) => m.speedup !== null && m.speedup < 1);
  const over = q.measurements.filter((m) => m.derivedMs.p95 > QUERY_P95_TARGET_MS);
  const generation =
    q.generationSeconds === null || q.generationCallsPerSecond === null
      ? 'generated by an earlier run and reused (`--data-dir`)'
      : `${f(q.generationSeconds)} s, ${f(q.generationCallsPerSecond)} calls/s`;
  return [
    '## 3. Dashboard and alert query latency',
    '',
    `**${f(q.measurements.length - over.length)} of ${f(q.measurements.length)} query/range pairs answer with p95 ≤ ${QUERY_P95_TARGET_MS} ms**${
      over.length === 0 ? '.' : `; over it: ${over.map((m) => `${m.query} @${m.range} (${f(m.derivedMs.p95)} ms)`).join('; ')}.`
    }`,
    '',
    `**${f(q.calls)} synthetic LLM calls over ${q.days} days**${scaled ? ` (scaled down from the ${f(q.requestedCalls)} requested: generation stopped at its time budget)` : ''},`,
    `generated inside chDB by \`INSERT … SELECT … FROM numbers()\` into otel_traces (four services, four models, streamed and not, outcomes, cache states, retries; values`,
    `from \`cityHash64\` of the call number), so the materialized views built llm_calls and the rollups: ${generation},`,
    `${f(q.otelTracesParts)} active otel_traces parts when querying. Only call spans are generated (no phase sub-spans; they sort apart by SpanName in otel_traces).`,
    'Generation stops at the chunk that crosses `--gen-budget-s` (600 s by default; the 10 M calls take about four minutes here). `--data-dir DIR` keeps the',
    'generated data and reuses it on the next run of the same size and generator.',
    '',
    'Every panel target and template-variable query of the committed dashboards (grafana/dashboards) and every data query of the committed alert rules',
    '(grafana/provisioning/alerting), macros expanded by `@llm-prism/grafana`\'s `expandMacros` (variables = All; `$__interval` = range ÷ 1 000 px rounded up to a nice step),',
    'at the 1-hour, 1-day and 30-day ranges ending at the end of the data. SLO panels use fixed windows (28 d, burn-rate windows) ending at `$__toTime`, and alert',
    'queries their own relative range, so they are measured once.',
    '',
    `**With derived tables**: the queries as committed; one warm-up, then up to ${q.reps} runs, fewer (at least ${q.minReps}) once a query's runs took ${q.queryBudgetSeconds} s;`,
    'p50 and p95 of those runs (with few runs p95 is close to the maximum). **Raw**: the same SQL with every derived table',
    'replaced by the SELECT of the materialized view that fills it (read back from `system.tables.as_select`, rollups nested over llm_calls), i.e. the same question',
    `answered from otel_traces at query time. Raw runs alternate with the derived runs: at most ${q.rawReps} per query (one when it takes over ${f(q.rawRepeatBelowMs / 1000)} s), within a`,
    `${q.rawBudgetSeconds} s budget for all raw runs, spent on alert queries first, then SLO panels, then the other panels.`,
    `"Answer" compares the raw answer with the derived one (same; approx = within 5 %, from \`quantile()\`'s sampling; differs).`,
    '',
    `SLO and alert queries: median raw ÷ derived **×${f(median(sloSpeedups), 1)}** over ${sloSpeedups.length} queries.`,
    notRun > 0 ? `${notRun} raw measurements were not run (time budget).` : 'Every raw measurement ran.',
    differs.length > 0 ? `Raw answers that differ: ${differs.map((m) => `${m.query} @${m.range}`).join('; ')}.` : '',
    rawFaster.length > 0
      ? `The raw query was faster at ${rawFaster.length} query/range pairs (${[...new Set(rawFaster.map((m) => m.range))].join(', ')}): ${[...new Set(rawFaster.map((m) => m.query))].join('; ')}.`
      : '',
    '',
    ...(scale === null ? [] : [scaleTable(scale, q), '']),
    tablesTable(q),
    '',
    table(
      ['query', 'range', 'rows', 'derived p50 ms', 'derived p95 ms', 'raw p50 ms', 'raw p95 ms (n)', 'raw ÷ derived', 'answer'],
      q.measurements.map((m) => [
        m.query.replace(/\|/g, '\\|'),
        m.range,
        f(m.rows),
        f(m.derivedMs.median, 1),
        f(m.derivedMs.p95, 1),
        m.rawMs === null ? '—' : f(m.rawMs.median, 0),
        m.rawMs === null ? '—' : `${f(m.rawMs.p95, 0)} (${m.rawMs.n})`,
        m.speedup === null ? '—' : `×${f(m.speedup, 1)}`,
        m.rawResult ?? '—',
      ]),
    ),
  ].join('\n');
}

export async function writeReport(): Promise<void> {
  const machine = await readResult<MachineResult>('machine');
  const overhead = await readResult<OverheadResult>('overhead');
  const ingest = await readResult<IngestResult>('ingest');
  const queries = await readResult<QueriesResult>('queries');
  const queriesScale = await readResult<QueriesResult>('queries-scale');
  const requestLatency = await readResult<RequestLatencyResult>('request-latency');
  const replay = await readResult<ReplayResult>('replay');
  const intro = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts → bench/report.ts) from bench/results/*.json${machine ? `, run finished ${machine.finishedAt}` : ''}. Do not edit: re-run.`,
    'The machine is shared and noisy (2 cores, other engineers running tests at the same time), so variants are alternated within one run and compared by',
    'ratios; absolute figures are of this machine only. Speed targets are never asserted in tests.',
  ].join('\n');
  const sections = [
    intro,
    machine ? machineSection(machine, [overhead, replay, ingest, queries, requestLatency].flatMap((r) => (r === null ? [] : [r]))) : '',
    overhead ? overheadSection(overhead) : '## 1. Instrumentation overhead\n\nNot run.',
    replay ? replaySection(replay) : '## 1b. Replay: the instrumentation\'s own cost, without SDK and network\n\nNot run.',
    ingest ? ingestSection(ingest) : '## 2. Ingest throughput\n\nNot run.',
    queries ? queriesSection(queries, queriesScale) : '## 3. Dashboard and alert query latency\n\nNot run.',
    requestLatency ? requestLatencySection(requestLatency) : '## 4. Latency added to the request, by prompt size\n\nNot run.',
  ].filter((s) => s !== '');
  await writeFile(join(ROOT, 'BENCHMARKS.md'), `${sections.join('\n\n')}\n`);
  console.log('wrote BENCHMARKS.md');
}

if (import.meta.main) await writeReport();
