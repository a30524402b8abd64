// Real calls for the SLO drill: each kind of call is made for real — the sample service's OpenAI
// SDK against the provider simulator, instrumented by `--import @llm-prism/instrumentation/register`,
// exported over OTLP to the ingest service into the scratch store — and read back as the
// otel_traces row ingest stored for its LLM call span. The drill then replays copies of these spans at
// simulated times. A hung call is recorded with a TTFT deadline, so its `llm.ttft_deadline` report
// (the span the rollups count while a call hangs) is recorded and replayed too. The call's phase
// sub-spans (llm.ttft, llm.queue, llm.decode) stay out of the copies: no SLI reads them, and they
// would triple the rows to store.
import type { ServiceSlo } from '@llm-prism/grafana';
import { ATTR_GEN_AI_CONVERSATION_ID, SPAN_NAME_LLM_TTFT_DEADLINE } from '@llm-prism/instrumentation';
import { formatTimestamp, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import type { ChatRequest } from '../chat-request.ts';
import { startSampleService, stopSampleService } from '../sample-process.ts';
import type { CallKind } from './scenarios.ts';

/** A recorded call: its LLM call span's row, start and end, and its TTFT deadline report (hung calls). */
export interface TemplateCall {
  kind: CallKind;
  row: OtelTraceRow;
  startNs: bigint;
  endNs: bigint;
  /** The `llm.ttft_deadline` span the instrumentation exported while the call hung. */
  report: OtelTraceRow | undefined;
}

/** Calls recorded per kind; replicas cycle through them. */
const PER_KIND = 2;
/** The client's timeout when recording a hung call; replicas end at the drill's hang timeout instead. */
const HANG_RECORD_TIMEOUT_MS = 1_000;
/**
 * The TTFT deadline of the process that records hung calls: within the recording's timeout, so the
 * instrumentation exports the call's `llm.ttft_deadline` span for real; replicas of the report are
 * re-timed to the drill's deadline (as the call to the hang timeout). The other kinds are recorded
 * with the deadline off: the drill checks that none of them would reach its deadline.
 */
export const HANG_RECORD_DEADLINE_MS = 300;

/** The simulator scenario of each kind; a slow first token comes 400 ms after the SLO's threshold. */
function simulatorScenario(kind: CallKind, slo: ServiceSlo): Record<string, unknown> {
  const stream = { queueMs: 20, prefillMs: 80, chunks: 6, chunkIntervalMs: 15 };
  switch (kind) {
    case 'healthy':
      return stream;
    case 'slow_ttft':
      return { ...stream, prefillMs: slo.ttft.thresholdMs + 400 };
    case 'midstream_error':
      return { ...stream, failAfterChunks: 2 };
    case 'failure':
      return { httpErrors: { status: 503, count: 100 } };
    case 'hang':
      // Longer than the recording client waits; short enough not to keep the simulator busy after.
      return { queueMs: 4 * HANG_RECORD_TIMEOUT_MS };
  }
}

const KINDS: readonly CallKind[] = ['healthy', 'slow_ttft', 'midstream_error', 'failure', 'hang'];

export function parseTimestampNs(ts: string): bigint {
  const [whole, fraction = ''] = ts.split('.');
  return BigInt(Date.parse(`${(whole as string).replace(' ', 'T')}Z`)) * 1_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
}

/**
 * Records PER_KIND calls of every kind for each SLO of the config (its service, model and route),
 * one sample-service process per service. Returns, per SLO (same order), its calls by kind.
 */
export async function recordTemplates(opts: {
  storage: Storage;
  ingestUrl: string;
  simulatorUrl: string;
  slos: readonly ServiceSlo[];
}): Promise<Map<CallKind, TemplateCall[]>[]> {
  const conversations: { slo: number; kind: CallKind; id: string }[] = [];
  // Per service, hung calls in a process of their own: only there is the TTFT deadline on.
  const processes = [...new Set(opts.slos.map((s) => s.service))].flatMap((service) => [
    { service, kinds: KINDS.filter((k) => k !== 'hang'), deadlineMs: 0 },
    { service, kinds: ['hang'] as CallKind[], deadlineMs: HANG_RECORD_DEADLINE_MS },
  ]);
  await Promise.all(
    processes.map(async ({ service, kinds, deadlineMs }) => {
      const sample = await startSampleService({
        LLM_PRISM_DEMO_PROVIDER_URL: opts.simulatorUrl,
        OTEL_SERVICE_NAME: service,
        OTEL_EXPORTER_OTLP_ENDPOINT: opts.ingestUrl,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        LLM_PRISM_TTFT_DEADLINE_MS: String(deadlineMs),
      });
      try {
        const calls: Promise<unknown>[] = [];
        opts.slos.forEach((slo, i) => {
          if (slo.service !== service) return;
          for (const kind of kinds) {
            for (let n = 0; n < PER_KIND; n++) {
              const id = `llm-prism-drill-${i}-${kind}-${n}`;
              conversations.push({ slo: i, kind, id });
              const request: ChatRequest = {
                api: 'openai.chat',
                model: slo.model ?? 'gpt-4o',
                stream: true,
                system: 'You answer questions about the weather.',
                messages: [{ role: 'user', content: `Will it rain in city ${n}?` }],
                conversationId: id,
                ...(slo.route !== undefined ? { route: slo.route } : {}),
                ...(kind === 'hang' ? { timeoutMs: HANG_RECORD_TIMEOUT_MS } : {}),
                scenario: simulatorScenario(kind, slo),
              };
              // Failed calls answer 502: their spans are what we want, the reply is not.
              calls.push(fetch(`${sample.url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }).then((r) => r.text()));
            }
          }
        });
        await Promise.all(calls);
      } finally {
        // Flushes the spans to ingest, which stores them before answering the exporter.
        await stopSampleService(sample);
      }
    }),
  );
  const out = opts.slos.map(() => new Map<CallKind, TemplateCall[]>(KINDS.map((k) => [k, []])));
  for (const c of conversations) {
    const result = await opts.storage.client.query({
      query: `SELECT * FROM ${opts.storage.database}.otel_traces WHERE SpanAttributes[{attr:String}] = {id:String}`,
      query_params: { attr: ATTR_GEN_AI_CONVERSATION_ID, id: c.id },
      format: 'JSONEachRow',
    });
    const rows = await result.json<OtelTraceRow>();
    const row = rows[0];
    if (rows.length !== 1 || row === undefined) throw new Error(`llm-prism slo drill: the ${c.kind} call ${c.id} reached ${rows.length} call spans in storage, not 1`);
    const startNs = parseTimestampNs(row.Timestamp);
    const reports = await opts.storage.client
      .query({
        query: `SELECT * FROM ${opts.storage.database}.otel_traces WHERE SpanName = {name:String} AND TraceId = {trace:String} AND ParentSpanId = {span:String}`,
        query_params: { name: SPAN_NAME_LLM_TTFT_DEADLINE, trace: row.TraceId, span: row.SpanId },
        format: 'JSONEachRow',
      })
      .then((r) => r.json<OtelTraceRow>());
    if (reports.length !== (c.kind === 'hang' ? 1 : 0)) {
      throw new Error(`llm-prism slo drill: the ${c.kind} call ${c.id} reached ${reports.length} ${SPAN_NAME_LLM_TTFT_DEADLINE} spans in storage, not ${c.kind === 'hang' ? 1 : 0}`);
    }
    out[c.slo]?.get(c.kind)?.push({ kind: c.kind, row, startNs, endNs: startNs + BigInt(row.Duration), report: reports[0] });
  }
  return out;
}

let sequence = 0n;

/** A new replica's id: its trace id, call span id and report span id derive from it. */
export function replicaId(): bigint {
  return ++sequence;
}

const hex = (n: bigint, width: number) => n.toString(16).padStart(width, '0').slice(-width);
const traceId = (id: bigint) => hex((0xd1e11n << 64n) | id, 32);
const callSpanId = (id: bigint) => hex(id, 16);

/**
 * The recorded call span as if the call had started at `startNs` and lasted `stretchNs` longer (a
 * hung call kept open): ids from `id`, timestamps shifted, everything else as recorded.
 */
export function replicate(t: TemplateCall, startNs: bigint, id: bigint, stretchNs = 0n): OtelTraceRow {
  const shift = startNs - t.startNs;
  const at = (ts: string) => formatTimestamp(parseTimestampNs(ts) + shift);
  return {
    ...t.row,
    Timestamp: at(t.row.Timestamp),
    TraceId: traceId(id),
    SpanId: callSpanId(id),
    Duration: String(BigInt(t.row.Duration) + stretchNs),
    'Events.Timestamp': t.row['Events.Timestamp'].map(at),
  };
}

/**
 * The recorded call's TTFT deadline report for the replica `id` started at `startNs`: the child of
 * its call span, starting where it did relative to the call and lasting `durationNs` (the wait
 * at the drill's deadline).
 */
export function replicateReport(t: TemplateCall, startNs: bigint, id: bigint, durationNs: bigint): OtelTraceRow {
  const report = t.report;
  if (report === undefined) throw new Error(`llm-prism slo drill: the recorded ${t.kind} call has no ${SPAN_NAME_LLM_TTFT_DEADLINE} span`);
  const at = (ts: string) => formatTimestamp(parseTimestampNs(ts) + startNs - t.startNs);
  return {
    ...report,
    Timestamp: at(report.Timestamp),
    TraceId: traceId(id),
    SpanId: hex((1n << 63n) | id, 16),
    ParentSpanId: callSpanId(id),
    Duration: String(durationNs),
    'Events.Timestamp': report['Events.Timestamp'].map(at),
  };
}
