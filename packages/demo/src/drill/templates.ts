// Real calls for the SLO drill: each kind of call is made for real — the sample service's OpenAI
// SDK against the provider simulator, instrumented by `--import @llm-prism/instrumentation/register`,
// exported over OTLP to the ingest service into the scratch store — and read back as the
// otel_traces row ingest stored for its LLM call span. The drill then replays copies of these spans at
// simulated times. The call's phase sub-spans (llm.ttft, llm.queue, llm.decode) stay out of the
// copies: no SLI reads them, and they would triple the rows to store.
import type { ServiceSlo } from '@llm-prism/grafana';
import { ATTR_GEN_AI_CONVERSATION_ID } from '@llm-prism/instrumentation';
import { formatTimestamp, type OtelTraceRow, type Storage } from '@llm-prism/storage';
import type { ChatRequest } from '../chat-request.ts';
import { startSampleService, stopSampleService } from '../sample-process.ts';
import type { CallKind } from './scenarios.ts';

/** A recorded call: its LLM call span's row, start and end. */
export interface TemplateCall {
  kind: CallKind;
  row: OtelTraceRow;
  startNs: bigint;
  endNs: bigint;
}

/** Calls recorded per kind; replicas cycle through them. */
const PER_KIND = 2;
/** The client's timeout when recording a hung call; replicas end at the drill's hang timeout instead. */
const HANG_RECORD_TIMEOUT_MS = 1_000;

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
  for (const service of new Set(opts.slos.map((s) => s.service))) {
    const sample = await startSampleService({
      LLM_PRISM_DEMO_PROVIDER_URL: opts.simulatorUrl,
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: opts.ingestUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
    try {
      const calls: Promise<unknown>[] = [];
      opts.slos.forEach((slo, i) => {
        if (slo.service !== service) return;
        for (const kind of KINDS) {
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
  }
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
    out[c.slo]?.get(c.kind)?.push({ kind: c.kind, row, startNs, endNs: startNs + BigInt(row.Duration) });
  }
  return out;
}

let sequence = 0;
const hex = (n: bigint, width: number) => n.toString(16).padStart(width, '0').slice(-width);

/**
 * The recorded call span as if the call had started at `startNs` and lasted `stretchNs` longer (a
 * hung call kept open): new trace and span ids, timestamps shifted, everything else as recorded.
 */
export function replicate(t: TemplateCall, startNs: bigint, stretchNs = 0n): OtelTraceRow {
  const shift = startNs - t.startNs;
  const n = BigInt(++sequence);
  const at = (ts: string) => formatTimestamp(parseTimestampNs(ts) + shift);
  return {
    ...t.row,
    Timestamp: at(t.row.Timestamp),
    TraceId: hex((0xd1e11n << 64n) | n, 32),
    SpanId: hex(n, 16),
    Duration: String(BigInt(t.row.Duration) + stretchNs),
    'Events.Timestamp': t.row['Events.Timestamp'].map(at),
  };
}
