// Replay benchmark: the instrumentation's own CPU per streamed call and per network chunk, apart
// from the SDK's and the network's. Recorded SSE answers (streams.ts) go, in this one process,
// through the instrumentation's response path and through the bare SDK's stream reader
// (replay.ts), in interleaved rounds (the order alternates each round). Each round gives one
// sample per figure; medians come with 95 % bootstrap intervals over the rounds (lib/stats.ts).
// `--callgrind` also counts the instructions of both paths under valgrind (callgrind.ts):
// independent of the machine's load (about 3 % apart from one process to the next on the same code).
// `--sdk-callgrind` counts whole calls through the real SDK against the simulator, streamed and not,
// bare and instrumented (sdk-calls.ts): every fixed cost per call, not only the response path.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnChild } from '../lib/child.ts';
import { writeResult } from '../lib/results.ts';
import { medianCI, type Estimate } from '../lib/stats.ts';
import { exportedSpans, flush, instrumentedCall, sdkCall } from './replay.ts';
import { KEPT_STREAM, keptChatStream, simulatorChatStream, testRecordings, toJson, type ReplayStream } from './streams.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    calls: { type: 'string', default: '20' },
    record: { type: 'boolean', default: false },
    'recording-calls': { type: 'string', default: '50' },
    callgrind: { type: 'boolean', default: false },
    'callgrind-calls': { type: 'string', default: '20' },
    'sdk-callgrind': { type: 'boolean', default: false },
    'sdk-callgrind-calls': { type: 'string', default: '100' },
    'sdk-callgrind-warm-up': { type: 'string', default: '200' },
  },
});
const rounds = Number(args.rounds);
const calls = Number(args.calls);

/** CPU µs of `n` runs of `fn` (user + system of this process). */
async function cpuOf(n: number, fn: () => unknown): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const t = process.cpuUsage(t0);
  return t.user + t.system;
}

// `--record`: the kept recording is made again from the simulator (then its ids and padding change).
if (args.record) writeFileSync(KEPT_STREAM, (await simulatorChatStream(200)).body);
const main = keptChatStream();
const recordings = testRecordings();
const chunksOf = (s: ReplayStream) => s.chunks.length;

// The SDK reads every item of the answer: a replay that lost chunks measured nothing.
const items = await sdkCall(main);
if (items !== chunksOf(main) - 1) throw new Error(`openai read ${items} items of ${chunksOf(main)} events (the last is [DONE])`);
const spans0 = exportedSpans();
instrumentedCall(main, false);
await flush();
if (exportedSpans() - spans0 < 1) throw new Error('the instrumented replay exported no span');

type Variant = 'sdk' | 'prism' | 'prism+content';
const VARIANTS: Variant[] = ['sdk', 'prism', 'prism+content'];
const run: Record<Variant, () => Promise<number>> = {
  sdk: () => cpuOf(calls, () => sdkCall(main)),
  prism: () => cpuOf(calls, () => instrumentedCall(main, false)),
  'prism+content': () => cpuOf(calls, () => instrumentedCall(main, true)),
};
// Warm-up (JIT), discarded.
for (let i = 0; i < 5; i++) for (const v of VARIANTS) await run[v]();
const perCall: Record<Variant, number[]> = { sdk: [], prism: [], 'prism+content': [] };
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < VARIANTS.length; i++) {
    const v = VARIANTS[(i + r) % VARIANTS.length] as Variant;
    perCall[v].push((await run[v]()) / calls);
  }
  await flush();
}

/** Per-recording instrumentation cost (interleaved the same way), ns per chunk. */
const perRecording: Record<string, number[]> = {};
for (let r = 0; r < Math.max(10, Math.floor(rounds / 2)); r++) {
  for (const s of r % 2 === 0 ? recordings : [...recordings].reverse()) {
    const n = Number(args['recording-calls']);
    const us = await cpuOf(n, () => instrumentedCall(s, false));
    (perRecording[s.name] ??= []).push((us * 1000) / n / chunksOf(s));
  }
  await flush();
}

/** valgrind is installed (else the callgrind figures are skipped, saying why). */
function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.log('  callgrind: valgrind is not installed, skipped');
    return false;
  }
}

// V8 in its predictable mode: no background threads, a GC schedule that does not depend on time, fixed seeds.
const PREDICTABLE_V8 = ['--predictable', '--predictable-gc-schedule', '--random-seed=1', '--hash-seed=1'];

/**
 * Instructions per call of each variant under callgrind (deterministic: V8 in predictable mode,
 * no concurrent compilation or GC threads, a time-independent GC schedule): two runs each, with 0
 * and `n` measured calls after the same warm-up; their difference ÷ n.
 */
function callgrind(n: number): Record<'sdk' | 'prism', number> | null {
  if (!hasValgrind()) return null;
  const dir = mkdtempSync(join(tmpdir(), 'replay-callgrind-'));
  try {
    const file = join(dir, 'stream.json');
    writeFileSync(file, toJson(main));
    const instructions = (variant: string, calls: number): number => {
      const out = join(dir, `${variant}-${calls}.out`);
      const script = new URL('./callgrind.ts', import.meta.url).pathname;
      execFileSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, ...PREDICTABLE_V8, ...process.execArgv, script, file, variant, '100', String(calls)], { stdio: 'ignore' });
      const total = /^summary:\s*(\d+)/m.exec(readFileSync(out, 'utf8'))?.[1];
      if (total === undefined) throw new Error(`no callgrind summary in ${out}`);
      return Number(total);
    };
    const per = (variant: string) => (instructions(variant, n) - instructions(variant, 0)) / n;
    return { sdk: per('sdk'), prism: per('prism') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const instructionsPerCall = args.callgrind ? callgrind(Number(args['callgrind-calls'])) : null;

/** Warm-up calls before callgrind counts (the JIT settles): start-up, loading and warm-up are not counted. */
const sdkWarmUp = Number(args['sdk-callgrind-warm-up']);
type SdkMode = 'nonstream' | 'stream';
/** Instructions per call, bare and with LLM Prism, and the requests each sent for its measured calls (more than the calls: retries, sdk-calls.ts). */
interface SdkCount {
  sdkPerCall: number;
  prismPerCall: number;
  ratioToSdk: number;
  requests: { sdk: number; prism: number };
}

/**
 * Instructions per whole call through openai 7, bare and with LLM Prism, streamed (200 chunks) and
 * not, against the simulator in its own process (sdk-calls.ts). callgrind zeroes its counters when
 * the warm-up ends (`--zero-before`, on a call the script makes then) and `totals:` is what the
 * measured calls cost.
 */
async function sdkCallgrind(n: number): Promise<Record<SdkMode, SdkCount> | null> {
  if (!hasValgrind()) return null;
  const sim = spawnChild(new URL('../overhead/simulator-process.ts', import.meta.url).pathname);
  const dir = mkdtempSync(join(tmpdir(), 'replay-sdk-callgrind-'));
  try {
    const { baseURL } = await sim.next<{ baseURL: string }>();
    const script = new URL('./sdk-calls.ts', import.meta.url).pathname;
    const perCall = async (variant: string, mode: SdkMode): Promise<{ instructions: number; requests: number }> => {
      const out = join(dir, `${variant}-${mode}.out`);
      const args = ['--tool=callgrind', '--zero-before=uv_os_getpriority', `--callgrind-out-file=${out}`, process.execPath, ...PREDICTABLE_V8, ...process.execArgv];
      const child = spawn('valgrind', [...args, script, baseURL, variant, mode, String(sdkWarmUp), String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      if (code !== 0) throw new Error(`${variant} ${mode} under callgrind exited with ${code}: ${stderr}`);
      const totals = /^totals:\s*(\d+)/m.exec(readFileSync(out, 'utf8'))?.[1];
      if (totals === undefined) throw new Error(`no callgrind totals in ${out}`);
      const { requests } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { requests?: number };
      if (requests === undefined) throw new Error(`${variant} ${mode}: no request count from sdk-calls.ts`);
      return { instructions: Number(totals) / n, requests };
    };
    const result = {} as Record<SdkMode, SdkCount>;
    for (const mode of ['nonstream', 'stream'] as const) {
      const sdk = await perCall('openai7', mode);
      const prism = await perCall('openai7+prism', mode);
      result[mode] = { sdkPerCall: sdk.instructions, prismPerCall: prism.instructions, ratioToSdk: prism.instructions / sdk.instructions, requests: { sdk: sdk.requests, prism: prism.requests } };
    }
    return result;
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
const sdkInstructions = args['sdk-callgrind'] ? await sdkCallgrind(Number(args['sdk-callgrind-calls'])) : null;

const chunks = chunksOf(main);
const ratio = (v: Variant) => perCall[v].map((us, r) => ((perCall.sdk[r] as number) + us) / (perCall.sdk[r] as number));
const fmt = (e: Estimate, digits = 1) => `${e.value.toFixed(digits)} [${e.low.toFixed(digits)}, ${e.high.toFixed(digits)}]`;
const result = {
  stream: { name: main.name, chunks, bytes: main.bytes },
  rounds,
  callsPerRound: calls,
  sdkUsPerCall: medianCI(perCall.sdk),
  sdkNsPerChunk: medianCI(perCall.sdk.map((us) => (us * 1000) / chunks)),
  variants: Object.fromEntries(
    (['prism', 'prism+content'] as const).map((v) => [
      v,
      {
        usPerCall: medianCI(perCall[v]),
        nsPerChunk: medianCI(perCall[v].map((us) => (us * 1000) / chunks)),
        /** (SDK + instrumentation) ÷ SDK, per round: what the instrumentation adds to the SDK's own stream reading. */
        ratioToSdk: medianCI(ratio(v)),
      },
    ]),
  ),
  /** Instructions per call under callgrind (`--callgrind`), and per chunk. */
  callgrind:
    instructionsPerCall === null
      ? null
      : {
          calls: Number(args['callgrind-calls']),
          sdkPerCall: instructionsPerCall.sdk,
          prismPerCall: instructionsPerCall.prism,
          prismPerChunk: instructionsPerCall.prism / chunks,
          ratioToSdk: (instructionsPerCall.sdk + instructionsPerCall.prism) / instructionsPerCall.sdk,
        },
  /** Instructions per whole call through openai 7 against the simulator (`--sdk-callgrind`): bare, with LLM Prism, and their ratio. */
  sdkCallgrind: sdkInstructions === null ? null : { calls: Number(args['sdk-callgrind-calls']), warmUp: sdkWarmUp, ...sdkInstructions },
  recordings: Object.fromEntries(recordings.map((s) => [s.name, { chunks: chunksOf(s), bytes: s.bytes, nsPerChunk: medianCI(perRecording[s.name] ?? []) }])),
};
console.log(`replay of ${main.name} (${chunks} chunks), ${rounds} rounds × ${calls} calls; median [95 % CI]`);
console.log(`  bare openai 7 Stream: ${fmt(result.sdkUsPerCall)} µs/call, ${fmt(result.sdkNsPerChunk, 0)} ns/chunk`);
for (const [v, r] of Object.entries(result.variants)) {
  console.log(`  ${v}: ${fmt(r.usPerCall)} µs/call, ${fmt(r.nsPerChunk, 0)} ns/chunk, (SDK + it) ÷ SDK ×${fmt(r.ratioToSdk, 3)}`);
}
if (result.callgrind) {
  const c = result.callgrind;
  console.log(`  callgrind: openai 7 Stream ${Math.round(c.sdkPerCall).toLocaleString('en')} instructions/call; prism ${Math.round(c.prismPerCall).toLocaleString('en')} (${Math.round(c.prismPerChunk)}/chunk), (SDK + it) ÷ SDK ×${c.ratioToSdk.toFixed(3)}`);
}
if (result.sdkCallgrind) {
  for (const mode of ['nonstream', 'stream'] as const) {
    const c = result.sdkCallgrind[mode];
    const retried = c.requests.sdk + c.requests.prism - 2 * result.sdkCallgrind.calls;
    console.log(
      `  callgrind, whole ${mode} calls through openai 7: bare ${Math.round(c.sdkPerCall).toLocaleString('en')} instructions/call; with LLM Prism ${Math.round(c.prismPerCall).toLocaleString('en')} (×${c.ratioToSdk.toFixed(3)})${retried > 0 ? `; ${retried} retried request(s) counted` : ''}`,
    );
  }
}
for (const [name, r] of Object.entries(result.recordings)) console.log(`  ${name} (${r.chunks} chunks): ${fmt(r.nsPerChunk, 0)} ns/chunk`);
await writeResult('replay', result);
