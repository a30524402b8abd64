// `llm-prism slo drill`: replays scripted incidents for every SLO of a config and reports when each
// generated alert rule fires. Days of traffic cannot run in real time, so (docs/slo.md, "Fire drill"):
// 1. every kind of call (healthy, slow first token, mid-stream error, failure, hang) is made for real
//    through the sample service, the instrumentation, OTLP and the ingest service into a scratch
//    store (templates.ts); a hung call with its TTFT deadline report;
// 2. each kind is classified by the SLI SQL (sliSeriesSql) on one copy of each call as replayed
//    (and of a hung call's report alone, which is how it counts until the call ends);
// 3. a scenario is a minute-by-minute script of kinds; copies of the recorded call spans, re-timed to
//    each simulated call's start, go into the store through storage.insertSpans (the sink of the
//    ingest service), each once its span would have ended and been exported; a hung call's report
//    once it would have been exported, at the drill's TTFT deadline;
// 4. the generated rules are evaluated every simulated minute from the per-minute counts with
//    Grafana's math expression and `for` semantics, and at the minutes that matter (incident start,
//    every 12 h, around every firing) the rules' own SQL runs on the store with the plugin's macros
//    expanded: any difference from the minute-by-minute values stops the drill.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  alertPolicy,
  alertRuleFile,
  evaluateMath,
  evaluateRule,
  forMs,
  nextState,
  ruleWindows,
  sliSeriesSql,
  type AlertRule,
  type AlertState,
  type ServiceSlo,
  type Severity,
  type SloConfig,
  type SloKind,
} from '@llm-prism/grafana';
import { startIngest } from '@llm-prism/ingest';
import { DEFAULT_TTFT_DEADLINE_MS } from '@llm-prism/instrumentation';
import { startSimulator } from '@llm-prism/simulator';
import { formatTimestamp, openStorage, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import { MinuteCounts, type Early } from './minute-counts.ts';
import { KindPicker, SCENARIOS, type CallKind, type Scenario, type ScenarioName } from './scenarios.ts';
import { HANG_RECORD_DEADLINE_MS, parseTimestampNs, recordTemplates, replicaId, replicate, replicateReport, type TemplateCall } from './templates.ts';

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const KINDS: readonly SloKind[] = ['ttft', 'completion'];
/** Evaluations between SQL checks of a long scenario. */
const CHECK_EVERY_MINUTES = 720;

export interface DrillOptions {
  config: SloConfig;
  /** Calls a minute of each SLO's traffic (default 6). */
  callsPerMinute?: number;
  /** Healthy traffic before each incident (default 1 day). */
  historyMinutes?: number;
  /** When a hung call's client gives up (default 600 s, the OpenAI SDK's timeout). */
  hangTimeoutS?: number;
  /**
   * The services' TTFT deadline: a hung call's `llm.ttft_deadline` report is exported this long
   * after it started (default 60 s, the instrumentation's default); none when the client gives up first.
   */
  ttftDeadlineS?: number;
  /** From a span's end until it is stored (default 5 s, the batch span processor's delay). */
  exportDelayMs?: number;
  /** Second of the minute at which Grafana evaluates the rules (default 30). */
  evaluationSecond?: number;
  scenarios?: readonly ScenarioName[];
  log?: (line: string) => void;
}

export interface DrillResult {
  /** The rules' `slo` label: `<id>-ttft` or `<id>-completion`. */
  slo: string;
  objective: number;
  scenario: ScenarioName;
  severity: Severity;
  /** Minutes from the incident's start to the rule firing; null when it did not fire within the scenario. */
  firedAfterMinutes: number | null;
}

export interface DrillReport {
  results: DrillResult[];
  /** Rule evaluations whose SQL ran on the store and matched the minute-by-minute values. */
  sqlChecks: number;
}

/** Options the drill cannot honour (the CLI prints the message alone). */
export class DrillOptionError extends Error {}

/** How every copy of a recorded call is replayed: its span stretched, its report's duration and when each is stored. */
interface Replay {
  stretchNs: bigint;
  /** From the call's start until its span is stored. */
  visibleAfterMs: number;
  /** The TTFT deadline report, when the call reaches the deadline. */
  report: { durationNs: bigint; visibleAfterMs: number } | undefined;
}

/** A simulated call: which recorded call it copies, when it starts, its replica id. */
interface SimCall {
  template: TemplateCall;
  startMs: number;
  id: bigint;
}

/** A row to store once simulated time reaches `atMs`: a call's span or its report. */
interface Pending {
  atMs: number;
  call: SimCall;
  part: 'call' | 'report';
}

interface RuleTrack {
  rule: AlertRule;
  kind: SloKind;
  severity: Severity;
  windows: [string, { seconds: number }][];
  expression: string;
  forDurationMs: number;
  objective: number;
  firedAt: number | null;
  /** Evaluation index at which the condition began to hold for the firing. */
  pendingFrom: number | null;
}

type Class = 'good' | 'bad' | null;

/** How a call counts in each SLI: once its span is stored (`final`), and before that by its report alone (`early`). */
interface Classes {
  final: Record<SloKind, Class>;
  early: Record<SloKind, Class> | undefined;
}

/**
 * Classifies each recorded call as replayed with the SLI SQL, one copy per minute: the call with
 * its report, and the report alone (how the rollups count a hung call until it ends).
 */
async function classify(
  storage: Storage,
  database: string,
  slo: ServiceSlo,
  templates: TemplateCall[],
  replays: Map<TemplateCall, Replay>,
  fromMs: number,
): Promise<Map<TemplateCall, Classes>> {
  const cases = templates.flatMap((t) => [
    { t, stage: 'final' as const },
    ...((replays.get(t) as Replay).report !== undefined ? [{ t, stage: 'early' as const }] : []),
  ]);
  await storage.insertSpans(
    cases.flatMap(({ t, stage }, i) => {
      const replay = replays.get(t) as Replay;
      const startNs = BigInt(fromMs + i * MINUTE + 1_000) * 1_000_000n;
      const id = replicaId();
      const report = replay.report === undefined ? [] : [replicateReport(t, startNs, id, replay.report.durationNs)];
      return stage === 'early' ? report : [replicate(t, startNs, id, replay.stretchNs), ...report];
    }),
  );
  const end = `toDateTime(${Math.floor((fromMs + cases.length * MINUTE) / 1000)})`;
  const classes = cases.map(() => ({ ttft: null, completion: null }) as Record<SloKind, Class>);
  for (const kind of KINDS) {
    const result = await storage.client.query({ query: sliSeriesSql(slo, kind, cases.length * 60, 60, { database, end }), format: 'JSONEachRow' });
    for (const r of await result.json<{ time: string; good: number | string; total: number | string }>()) {
      const index = (Date.parse(`${r.time.replace(' ', 'T')}Z`) - fromMs) / MINUTE;
      const c = classes[index];
      if (c === undefined || Number(r.total) !== 1) throw new Error(`llm-prism slo drill: unexpected SLI minute ${JSON.stringify(r)}`);
      c[kind] = Number(r.good) === 1 ? 'good' : 'bad';
    }
  }
  const out = new Map<TemplateCall, Classes>();
  cases.forEach(({ t, stage }, i) => {
    const entry = out.get(t) ?? { final: { ttft: null, completion: null }, early: undefined };
    entry[stage] = classes[i] as Record<SloKind, Class>;
    out.set(t, entry);
  });
  return out;
}

/**
 * How copies of `t` are replayed: a hung call is kept open until the client gives up and reports at
 * the TTFT deadline if that comes first; every other call ends as recorded, and must end before
 * the deadline (only hung calls' reports were recorded).
 */
function replayOf(t: TemplateCall, o: { hangMs: number; deadlineMs: number; exportDelay: number }): Replay {
  const durationMs = Number(t.endNs - t.startNs) / 1e6;
  if (t.kind !== 'hang') {
    if (durationMs >= o.deadlineMs) {
      throw new DrillOptionError(
        `llm-prism slo drill: the recorded ${t.kind} call lasted ${(durationMs / 1000).toFixed(1)} s, past the TTFT deadline of ${o.deadlineMs / 1000} s, and only hung calls' deadline reports are replayed: pass --ttft-deadline ${Math.floor(durationMs / 1000) + 1} or more (a service needs a deadline at least as large as its TTFT thresholds anyway, docs/slo.md "Hangs")`,
      );
    }
    return { stretchNs: 0n, visibleAfterMs: durationMs + o.exportDelay, report: undefined };
  }
  const stretchMs = Math.max(0, o.hangMs - durationMs);
  const report = t.report;
  if (report === undefined) throw new Error('llm-prism slo drill: a hung call was recorded without its TTFT deadline report');
  // The report as exported at the drill's deadline instead of the recording's (its timer slack kept).
  const durationNs = BigInt(report.Duration) + BigInt(o.deadlineMs - HANG_RECORD_DEADLINE_MS) * 1_000_000n;
  const offsetMs = Number(parseTimestampNs(report.Timestamp) - t.startNs) / 1e6;
  const reportEndMs = offsetMs + Number(durationNs) / 1e6;
  return {
    stretchNs: BigInt(Math.round(stretchMs * 1e6)),
    visibleAfterMs: durationMs + stretchMs + o.exportDelay,
    // The client gave up first: the call's end cleared the deadline.
    report: reportEndMs < durationMs + stretchMs ? { durationNs, visibleAfterMs: reportEndMs + o.exportDelay } : undefined,
  };
}

function burnRate(c: { good: number; total: number }, objective: number): number {
  return c.total === 0 ? 0 : (c.total - c.good) / c.total / (1 - objective);
}

export async function runDrill(o: DrillOptions): Promise<DrillReport> {
  const { config } = o;
  const log = o.log ?? (() => {});
  const perMinute = o.callsPerMinute ?? 6;
  const history = o.historyMinutes ?? 1_440;
  const hangMs = (o.hangTimeoutS ?? 600) * 1000;
  const deadlineMs = o.ttftDeadlineS !== undefined ? o.ttftDeadlineS * 1000 : DEFAULT_TTFT_DEADLINE_MS;
  const exportDelay = o.exportDelayMs ?? 5_000;
  const evaluationOffset = (o.evaluationSecond ?? 30) * 1000;
  const scenarios = SCENARIOS.filter((s) => o.scenarios === undefined || o.scenarios.includes(s.name));
  const dir = await mkdtemp(join(tmpdir(), 'llm-prism-drill-'));
  const cleanup: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const storage = await openStorage({ dataDir: join(dir, 'data'), database: config.database });
    cleanup.push(() => storage.close());
    const ingest = await startIngest({ port: 0, host: '127.0.0.1', storage, log: () => {} });
    cleanup.push(() => ingest.close());
    const sim = await startSimulator({ port: 0 });
    cleanup.push(() => sim.close());
    log(`Recording healthy, slow-first-token, mid-stream-error, failing and hung calls for ${config.slos.length} SLO(s) through the simulator, the instrumentation and ingest…`);
    const templates = await recordTemplates({ storage, ingestUrl: ingest.url, simulatorUrl: sim.url, slos: config.slos });

    // Simulated time starts well after the recorded calls: every segment is far from every other.
    const base = Math.ceil(Date.now() / DAY) * DAY + 30 * DAY;
    const results: DrillResult[] = [];
    let sqlChecks = 0;
    let segment = 0;
    for (const [i, slo] of config.slos.entries()) {
      const byKind = templates[i] as Map<CallKind, TemplateCall[]>;
      const all = [...byKind.values()].flat();
      const replays = new Map(all.map((t) => [t, replayOf(t, { hangMs, deadlineMs, exportDelay })]));
      const classes = await classify(storage, config.database, slo, all, replays, base - 10 * DAY + i * 60 * MINUTE);
      const rules = (alertRuleFile(config, slo, () => 0).groups[0]?.rules ?? []).map((rule): RuleTrack => {
        const kind = rule.labels.sli as SloKind;
        const severity = rule.labels.severity as Severity;
        const expression = rule.data.find((q) => q.refId === rule.condition)?.model;
        if (expression === undefined || !('expression' in expression)) throw new Error(`${rule.uid}: no condition expression`);
        return {
          rule,
          kind,
          severity,
          windows: ruleWindows(alertPolicy(slo[kind].objective), severity),
          expression: expression.expression,
          forDurationMs: forMs(rule.for),
          objective: slo[kind].objective,
          firedAt: null,
          pendingFrom: null,
        };
      });
      for (const scenario of scenarios) {
        const start = base + segment++ * 8 * DAY + history * MINUTE;
        log(`${slo.id}: ${scenario.name} — ${scenario.description}`);
        const report = await drillSegment({ storage, slo, scenario, start, byKind, replays, classes, rules, perMinute, history, evaluationOffset });
        sqlChecks += report.sqlChecks;
        for (const r of report.tracks) {
          results.push({
            slo: r.rule.labels.slo as string,
            objective: r.objective,
            scenario: scenario.name,
            severity: r.severity,
            firedAfterMinutes: r.firedAt === null ? null : (r.firedAt - start) / MINUTE,
          });
        }
      }
    }
    return { results, sqlChecks };
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}

async function drillSegment(s: {
  storage: Storage;
  slo: ServiceSlo;
  scenario: Scenario;
  start: number;
  byKind: Map<CallKind, TemplateCall[]>;
  replays: Map<TemplateCall, Replay>;
  classes: Map<TemplateCall, Classes>;
  rules: RuleTrack[];
  perMinute: number;
  history: number;
  evaluationOffset: number;
}): Promise<{ tracks: RuleTrack[]; sqlChecks: number }> {
  const { start, scenario, slo } = s;
  const first = start - s.history * MINUTE;
  const minutes = s.history + scenario.minutes + 1;
  const counts = { ttft: new MinuteCounts(first, minutes), completion: new MinuteCounts(first, minutes) };
  const stored: Pending[] = [];
  const picker = new KindPicker();
  let n = 0;
  for (let m = -s.history; m <= scenario.minutes; m++) {
    const mix = m < 0 ? ({ all: 'healthy' } as const) : scenario.minute(m, slo.ttft, slo.completion);
    for (let j = 0; j < s.perMinute; j++) {
      const kind = picker.next(mix);
      const variants = s.byKind.get(kind) ?? [];
      const template = variants[n++ % variants.length];
      if (template === undefined) throw new Error(`llm-prism slo drill: no recorded ${kind} call`);
      const startMs = start + m * MINUTE + 1_000 + Math.floor((j * MINUTE) / s.perMinute);
      const replay = s.replays.get(template) as Replay;
      const call: SimCall = { template, startMs, id: replicaId() };
      const visibleAtMs = startMs + replay.visibleAfterMs;
      stored.push({ atMs: visibleAtMs, call, part: 'call' });
      if (replay.report !== undefined) stored.push({ atMs: startMs + replay.report.visibleAfterMs, call, part: 'report' });
      const cls = s.classes.get(template) as Classes;
      for (const k of KINDS) {
        const final = cls.final[k];
        const early = cls.early?.[k] ?? null;
        if (final === null) {
          // The report is part of the call's final set: it cannot count unless the call does.
          if (early !== null) throw new Error(`llm-prism slo drill: a ${template.kind} call counts in ${k} by its report but not with its own span`);
          continue;
        }
        const before: Early | undefined = early === null || replay.report === undefined ? undefined : { visibleAtMs: startMs + replay.report.visibleAfterMs, good: early === 'good' };
        counts[k].add(startMs, visibleAtMs, final === 'good', before);
      }
    }
  }
  counts.ttft.seal();
  counts.completion.seal();

  const evaluationTime = (k: number) => start + k * MINUTE + s.evaluationOffset;
  const valuesAt = (t: RuleTrack, at: number) => {
    const end = Math.floor(at / MINUTE) * MINUTE;
    return Object.fromEntries(t.windows.map(([ref, w]) => [ref, burnRate(counts[t.kind].window(end, w.seconds, at), t.objective)]));
  };
  const tracks = s.rules.map((r) => ({ ...r, firedAt: null, pendingFrom: null }) as RuleTrack);
  // Evaluation index → the rules to check there by SQL (all at the start and every 12 h; a firing rule around its firing).
  const checkpoints = new Map<number, Set<RuleTrack>>();
  const check = (k: number, t: readonly RuleTrack[]) => checkpoints.set(k, new Set([...(checkpoints.get(k) ?? []), ...t]));
  for (let k = 0; k <= scenario.minutes; k += CHECK_EVERY_MINUTES) check(k, tracks);
  for (const t of tracks) {
    let state: { state: AlertState; since: number } = { state: 'Normal', since: evaluationTime(0) };
    for (let k = 0; k <= scenario.minutes; k++) {
      const at = evaluationTime(k);
      const holds = evaluateMath(t.expression, valuesAt(t, at)) !== 0;
      const before = state.state;
      state = nextState(state, holds, at, t.forDurationMs);
      if (before === 'Normal' && state.state !== 'Normal') t.pendingFrom = k;
      if (state.state === 'Alerting') {
        t.firedAt = at;
        // The evaluation before the condition held, the first that held, and the firing one.
        const from = t.pendingFrom ?? k;
        for (const c of [from - 1, from, k]) if (c >= 0) check(c, [t]);
        break;
      }
    }
  }

  // The rules' own SQL on the store, which holds then exactly the calls whose spans were stored.
  stored.sort((a, b) => a.atMs - b.atMs);
  let inserted = 0;
  let sqlChecks = 0;
  const run = (sql: string) => s.storage.client.query({ query: sql, format: 'JSONEachRow' }).then((r) => r.json<Record<string, unknown>>());
  for (const [k, checked] of [...checkpoints].sort(([a], [b]) => a - b)) {
    const at = evaluationTime(k);
    let batch: OtelTraceRow[] = [];
    while (inserted < stored.length && (stored[inserted] as Pending).atMs <= at) {
      const { call: c, part } = stored[inserted++] as Pending;
      const replay = s.replays.get(c.template) as Replay;
      const startNs = BigInt(c.startMs) * 1_000_000n;
      batch.push(part === 'call' ? replicate(c.template, startNs, c.id, replay.stretchNs) : replicateReport(c.template, startNs, c.id, (replay.report as { durationNs: bigint }).durationNs));
      if (batch.length >= 20_000) {
        await s.storage.insertSpans(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await s.storage.insertSpans(batch);
    for (const t of checked) {
      const expected = valuesAt(t, at);
      const actual = await evaluateRule(t.rule, at, run);
      sqlChecks++;
      for (const [ref, value] of Object.entries(expected)) {
        const got = actual.values[ref] as number;
        if (!(Math.abs(got - value) <= 1e-9 * Math.max(1, Math.abs(value)))) {
          throw new Error(
            `llm-prism slo drill: rule ${t.rule.uid} query ${ref} at ${formatTimestamp(BigInt(at) * 1_000_000n)} returned ${got}, the minute-by-minute evaluation has ${value} (${scenario.name})`,
          );
        }
      }
      if ((actual.condition !== 0) !== (evaluateMath(t.expression, expected) !== 0)) throw new Error(`llm-prism slo drill: rule ${t.rule.uid} condition differs at ${at}`);
    }
  }
  return { tracks, sqlChecks };
}
