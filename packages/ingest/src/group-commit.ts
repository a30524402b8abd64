// Group commit: requests queue their rows; one insert runs at a time and takes everything queued
// (up to a row cap), so concurrent requests share large inserts. A request's promise settles only
// when the insert holding its rows has been stored or has failed: nothing is acknowledged early.
import type { OtelTraceRow } from '@llm-prism/storage';
import { HttpError } from './http-error.ts';

export interface SpanSink {
  insertSpans(rows: OtelTraceRow[]): Promise<void>;
}

export interface GroupCommitOptions {
  sink: SpanSink;
  /** Rows per insert at most (one request larger than this is inserted alone). */
  maxBatchRows?: number;
  /** Rows waiting at most; beyond this requests get 429. */
  maxQueuedRows?: number;
  /** Retry-After for 429 and 503 answers, and how long to refuse work after a failed insert. */
  retryAfterSeconds?: number;
  /** Called after every insert, for metrics. */
  onInsert?: (rows: number, seconds: number, error?: unknown) => void;
}

interface Pending {
  rows: OtelTraceRow[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  readonly maxBatchRows: number;
  readonly maxQueuedRows: number;
  readonly retryAfterSeconds: number;
  #sink: SpanSink;
  #onInsert: GroupCommitOptions['onInsert'];
  #queue: Pending[] = [];
  #queuedRows = 0;
  #inFlight: Promise<void> | undefined;
  #failedUntil = 0;
  #lastError = '';
  #closing = false;

  constructor(options: GroupCommitOptions) {
    this.#sink = options.sink;
    this.maxBatchRows = options.maxBatchRows ?? 50_000;
    this.maxQueuedRows = options.maxQueuedRows ?? 200_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.#onInsert = options.onInsert;
  }

  /** Rows waiting for an insert (not counting the one in flight). */
  get queuedRows(): number {
    return this.#queuedRows;
  }

  /** Resolves once `rows` are stored; rejects with an HttpError (429/503) otherwise. */
  submit(rows: OtelTraceRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.#closing) return Promise.reject(new HttpError(503, 'ingest is shutting down', this.retryAfterSeconds));
    if (Date.now() < this.#failedUntil) {
      return Promise.reject(this.#unavailable());
    }
    if (this.#queuedRows > 0 && this.#queuedRows + rows.length > this.maxQueuedRows) {
      return Promise.reject(
        new HttpError(
          429,
          `ingest queue is full (${this.#queuedRows} rows waiting, limit ${this.maxQueuedRows}): storage is not keeping up`,
          this.retryAfterSeconds,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ rows, resolve, reject });
      this.#queuedRows += rows.length;
      this.#pump();
    });
  }

  /** Refuses new work and waits until everything queued has been inserted (or has failed). */
  async close(): Promise<void> {
    this.#closing = true;
    while (this.#inFlight) await this.#inFlight;
  }

  #unavailable(): HttpError {
    return new HttpError(503, `storage unavailable: ${this.#lastError}`, this.retryAfterSeconds);
  }

  #pump(): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    const batch: Pending[] = [];
    let count = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Pending;
      if (batch.length > 0 && count + next.rows.length > this.maxBatchRows) break;
      batch.push(next);
      count += next.rows.length;
      this.#queue.shift();
    }
    this.#queuedRows -= count;
    this.#inFlight = this.#insert(batch, count).finally(() => {
      this.#inFlight = undefined;
      this.#pump();
    });
  }

  async #insert(batch: Pending[], count: number): Promise<void> {
    const rows = batch.length === 1 ? (batch[0] as Pending).rows : batch.flatMap((p) => p.rows);
    const started = performance.now();
    try {
      await this.#sink.insertSpans(rows);
    } catch (err) {
      this.#onInsert?.(count, (performance.now() - started) / 1000, err);
      this.#lastError = err instanceof Error ? err.message : String(err);
      // Storage is failing: refuse work for a while so exporters back off, and fail what is
      // queued now rather than feed it to the same failure.
      this.#failedUntil = Date.now() + this.retryAfterSeconds * 1000;
      const failed = this.#unavailable();
      for (const p of batch) p.reject(failed);
      for (const p of this.#queue.splice(0)) p.reject(failed);
      this.#queuedRows = 0;
      return;
    }
    this.#onInsert?.(count, (performance.now() - started) / 1000);
    for (const p of batch) p.resolve();
  }
}
