// Child process of cut-inserts.test.ts: inserts batches of 3 000 LLM call spans into a data
// directory until it is killed. Every call is distinct; prompts repeat, so most calls are
// duplicates and the duplicate tables are written too. Says 'ready' once the store is open.
import { formatTimestamp, openStorage } from '@llm-prism/storage';
import { otelTraceRow } from '@llm-prism/storage/testing';

const [dataDir, first] = process.argv.slice(2);
const storage = await openStorage({ dataDir: dataDir! });
const T0 = BigInt(Date.UTC(2026, 10, 23, 9, 59)) * 1_000_000n;
process.send?.('ready');
for (let n = Number(first); ; n += 3_000) {
  const rows = Array.from({ length: 3_000 }, (_, i) =>
    otelTraceRow({
      Timestamp: formatTimestamp(T0 + BigInt(n + i) * 10_000_000n),
      TraceId: (n + i).toString(16).padStart(32, '0'),
      SpanId: (n + i).toString(16).padStart(16, '0'),
      SpanName: 'chat',
      SpanKind: 'Client',
      ServiceName: 'killed',
      Duration: 1_000_000_000,
      SpanAttributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.stream': 'true', 'llm.ttft_ms': String(100 + ((n + i) % 500)), 'llm.prompt.hash': `p${(n + i) % 7}` },
    }),
  );
  await storage.insertSpans(rows);
}
