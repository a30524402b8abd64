// Builders of OTLP/JSON-shaped export requests for this package's tests and the top-level
// test/ingest-*.test.ts (not exported from the package).
import { randomBytes } from 'node:crypto';

export interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  events?: unknown[];
  links?: unknown[];
  status?: { code?: number; message?: string };
}

export const randomTraceId = (): string => randomBytes(16).toString('hex');
export const randomSpanId = (): string => randomBytes(8).toString('hex');

/** A valid span starting `startMs` ago (default now) and lasting `durationMs`. */
export function jsonSpan(overrides: Partial<JsonSpan> = {}, durationMs = 250): JsonSpan {
  const start = BigInt(Date.now()) * 1_000_000n;
  return {
    traceId: randomTraceId(),
    spanId: randomSpanId(),
    name: 'work',
    kind: 1,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + BigInt(durationMs) * 1_000_000n).toString(),
    ...overrides,
  };
}

export function jsonRequest(spans: JsonSpan[], serviceName = 'ingest-test'): object {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeSpans: [{ scope: { name: 'test-scope', version: '1.0.0' }, spans }],
      },
    ],
  };
}

/** One unlabelled value from a running server's /metrics (0 when absent). */
export async function scrapeMetric(serverUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
