// Prometheus metrics of one ingest instance, on its own registry (several may share a process).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class IngestMetrics {
  readonly registry = new Registry();
  readonly spansReceived = new Counter({
    name: 'llm_prism_ingest_spans_received_total',
    help: 'Spans received in well-formed export requests',
    registers: [this.registry],
  });
  readonly spansStored = new Counter({
    name: 'llm_prism_ingest_spans_stored_total',
    help: 'Spans stored in otel_traces and acknowledged',
    registers: [this.registry],
  });
  readonly spansRejected = new Counter({
    name: 'llm_prism_ingest_spans_rejected_total',
    help: 'Spans not stored, by reason (invalid ids, timestamps or values, queue_full, storage_unavailable, storage_refused)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'llm_prism_ingest_requests_total',
    help: 'Export requests by HTTP status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly insertSeconds = new Histogram({
    name: 'llm_prism_ingest_insert_duration_seconds',
    help: 'Duration of one group-commit insert into otel_traces',
    labelNames: ['result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly batchRows = new Histogram({
    name: 'llm_prism_ingest_batch_rows',
    help: 'Rows per group-commit insert',
    buckets: [1, 10, 100, 1000, 5000, 10_000, 50_000, 100_000],
    registers: [this.registry],
  });
  readonly queueDepth: Gauge;

  constructor(queuedRows: () => number) {
    this.queueDepth = new Gauge({
      name: 'llm_prism_ingest_queue_rows',
      help: 'Rows waiting for the next insert',
      registers: [this.registry],
      collect() {
        this.set(queuedRows());
      },
    });
  }

  /** Hook for GroupCommit's onInsert. */
  observeInsert(rows: number, seconds: number, error?: unknown): void {
    this.insertSeconds.observe({ result: error ? 'error' : 'ok' }, seconds);
    this.batchRows.observe(rows);
  }
}
