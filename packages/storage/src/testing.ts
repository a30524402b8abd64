// Helpers for tests here and in other packages (seeding dashboards, reports, ingest checks).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OtelTraceRow } from './otel-traces.ts';

/** A fresh, empty chDB data directory under the OS temp dir (chDB: one directory per process). */
export function tempDataDir(prefix = 'llm-prism-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** An `otel_traces` row with every field the caller leaves out empty, as the Collector writes it. */
export function otelTraceRow(fields: Pick<OtelTraceRow, 'Timestamp' | 'TraceId' | 'SpanId'> & Partial<OtelTraceRow>): OtelTraceRow {
  return {
    ParentSpanId: '',
    TraceState: '',
    SpanName: '',
    SpanKind: 'Internal',
    ServiceName: '',
    ResourceAttributes: {},
    ScopeName: '',
    ScopeVersion: '',
    SpanAttributes: {},
    Duration: 0,
    StatusCode: 'Unset',
    StatusMessage: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
    ...fields,
  };
}
