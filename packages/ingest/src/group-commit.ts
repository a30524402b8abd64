// Group commit: requests queue their rows; one insert runs at a time and takes everything queued
// (up to a row cap), so concurrent requests share large inserts. A request's promise settles only
// when the insert holding its rows has been stored or has failed: nothing is acknowledged early.
//
// Failure isolation: an insert that ClickHouse refuses because of its data (storage-error.ts)
// stored nothing, so its requests are inserted again apart (halves of the batch), and a request
// that fails alone is bisected down to its bad spans. Those spans are refused to their sender
// only; everyone else is stored and acknowledged. Only storage that is really unavailable fails
// the batch with 503 and refuses work for Retry-After.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpanRow } from '@llm-prism/storage';
import { HttpError } from './http-error.ts';
import { dayOf, partitionGroups } from './partition-groups.ts';
import { classifyInsertError, type InsertFailure } from './storage-error.ts';

export interface SpanSink {
  insertSpans(rows: SpanRow[]): Promise<void>;
}

export interface GroupCommitOptions {
  sink: SpanSink;
  /** Rows per insert at most (one request larger than this is inserted alone). */
  maxBatchRows?: number;
  /** Rows waiting at most; beyond this requests get 429. */
  maxQueuedRows?: number;
  /** Retry-After for 429 and 503 answers, and how long to refuse work after storage failed. */
  retryAfterSeconds?: number;
  /**
   * Inserts spent bisecting one request whose own rows fail (default 32: enough to find a few
   * bad spans among thousands); past it the rows still failing are refused together.
   */
  maxIsolationInserts?: number;
  /**
   * After an insert of at least `lingerRows` rows, while fewer are queued, the next insert waits
   * up to `lingerMs` for more (default 0: never waits). An embedded chDB insert costs ~0.2 s plus
   * ~11 µs a row (ingest bench), so one started with the lone request that arrived as a large one
   * ended costs nearly what a 10 000-row insert does, while the senders that insert acknowledged
   * are sending again. Only after a large insert: light load is not delayed, and it stops at once
   * when a request is refused for a full queue.
   */
  lingerMs?: number;
  lingerRows?: number;
  /** Called after every insert, for metrics. */
  onInsert?: (rows: number, seconds: number, error?: unknown) => void;
  /** Told once when storage becomes unavailable (with ClickHouse's reason) and once when it is back. */
  log?: (line: string) => void;
}

/** A span storage refused because of its data, and ClickHouse's reason. */
export interface RefusedRow {
  row: SpanRow;
  reason: string;
}

/** What became of a request's rows: all stored except `refused`. */
export interface CommitResult {
  refused: RefusedRow[];
}

/** ClickHouse's default max_partitions_per_insert_block; otel_traces has one partition per day. */
export const MAX_PARTITIONS_PER_INSERT = 100;

interface Pending {
  rows: SpanRow[];
  /** Partitions (UTC days) its rows fall in. */
  days: Set<string>;
  refused: RefusedRow[];
  settled: boolean;
  resolve: (result: CommitResult) => void;
  reject: (err: unknown) => void;
}

/** Thrown inside isolation when storage turns out to be unavailable. */
class Unavailable extends Error {}

type DataFailure = Extract<InsertFailure, { kind: 'data' }>;

const SPREAD: DataFailure = { kind: 'data', partitions: true, message: `spans over more than ${MAX_PARTITIONS_PER_INSERT} days` };

export class GroupCommit {
  readonly maxBatchRows: number;
  readonly maxQueuedRows: number;
  readonly retryAfterSeconds: number;
  readonly maxIsolationInserts: number;
  readonly lingerMs: number;
  readonly lingerRows: number;
  #lingering: ReturnType<typeof setTimeout> | undefined;
  #lastBatchRows = 0;
  #sink: SpanSink;
  #onInsert: GroupCommitOptions['onInsert'];
  readonly #log: GroupCommitOptions['log'];
  /** The last insert failed for storage, not for its data (logged once per outage). */
  #down = false;
  #queue: Pending[] = [];
  #queuedRows = 0;
  #inFlight: Promise<void> | undefined;
  #failedUntil = 0;
  #lastReason = '';
  #closing = false;

  constructor(options: GroupCommitOptions) {
    this.#sink = options.sink;
    this.maxBatchRows = options.maxBatchRows ?? 50_000;
    this.maxQueuedRows = options.maxQueuedRows ?? 200_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.maxIsolationInserts = options.maxIsolationInserts ?? 32;
    this.lingerMs = options.lingerMs ?? 0;
    this.lingerRows = Math.min(options.lingerRows ?? 0, this.maxQueuedRows);
    this.#onInsert = options.onInsert;
    this.#log = options.log;
  }

  /** Rows waiting for an insert (not counting the one in flight). */
  get queuedRows(): number {
    return this.#queuedRows;
  }

  /**
   * Resolves once `rows` are stored, naming the rows storage refused for their data; rejects with
   * an HttpError (429/503) when nothing could be decided about them.
   */
  submit(rows: SpanRow[]): Promise<CommitResult> {
    if (rows.length === 0) return Promise.resolve({ refused: [] });
    if (this.#closing) return Promise.reject(new HttpError(503, 'ingest is shutting down', this.retryAfterSeconds));
    if (Date.now() < this.#failedUntil) {
      return Promise.reject(this.#unavailable());
    }
    if (this.#queuedRows > 0 && this.#queuedRows + rows.length > this.maxQueuedRows) {
      // No more waiting for rows while refusing them.
      this.#pump(true);
      return Promise.reject(
        new HttpError(
          429,
          `ingest queue is full (${this.#queuedRows} rows waiting, limit ${this.maxQueuedRows}): storage is not keeping up`,
          this.retryAfterSeconds,
        ),
      );
    }
    return new Promise<CommitResult>((resolve, reject) => {
      this.#queue.push({ rows, days: new Set(rows.map(dayOf)), refused: [], settled: false, resolve, reject });
      this.#queuedRows += rows.length;
      this.#pump();
    });
  }

  /** Refuses new work and waits until everything queued has been inserted (or has failed). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#pump(true);
    while (this.#inFlight) await this.#inFlight;
  }

  #unavailable(): HttpError {
    // ClickHouse's own text stays in the log: it may quote the insert, with another client's values.
    return new HttpError(503, `storage unavailable (${this.#lastReason}): try again later`, this.retryAfterSeconds);
  }

  #pump(lingered = false): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    if (!lingered && this.lingerMs > 0 && this.#lastBatchRows >= this.lingerRows && this.#queuedRows < this.lingerRows) {
      this.#lingering ??= setTimeout(() => {
        this.#lingering = undefined;
        this.#pump(true);
      }, this.lingerMs);
      return;
    }
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    const batch: Pending[] = [];
    const days = new Set<string>();
    let count = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Pending;
      if (batch.length > 0) {
        if (count + next.rows.length > this.maxBatchRows) break;
        // Requests that are fine alone must not fail together on ClickHouse's partition limit.
        const added = [...next.days].filter((d) => !days.has(d)).length;
        if (days.size + added > MAX_PARTITIONS_PER_INSERT) break;
      }
      batch.push(next);
      for (const d of next.days) days.add(d);
      count += next.rows.length;
      this.#queue.shift();
    }
    this.#queuedRows -= count;
    this.#lastBatchRows = count;
    this.#inFlight = this.#commit(batch).finally(() => {
      this.#inFlight = undefined;
      this.#pump();
    });
  }

  async #commit(batch: Pending[]): Promise<void> {
    // The insert's own work starts on a later turn of the event loop (a timer: an immediate would
    // still run in this turn) than the request that woke the pump, which did its share already:
    // together, a 20 000-span request held the loop 35 ms in one go.
    await sleep(0);
    try {
      // One request over more days than an insert may hold goes in groups of days at once: sent
      // whole, a cluster's shards check the limit apart, so some could store their share of an
      // insert that fails on others, and the groups would store it again.
      if (batch.length === 1 && (batch[0] as Pending).days.size > MAX_PARTITIONS_PER_INSERT) return await this.#isolate(batch, SPREAD);
      const failure = await this.#store(batch.length === 1 ? (batch[0] as Pending).rows : batch.flatMap((p) => p.rows));
      if (failure) await this.#isolate(batch, failure);
      else for (const p of batch) this.#settle(p);
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      // Storage is failing: refuse work for a while so exporters back off, and fail what is
      // queued now rather than feed it to the same failure.
      this.#failedUntil = Date.now() + this.retryAfterSeconds * 1000;
      const failed = this.#unavailable();
      for (const p of batch) if (!p.settled) p.reject(failed);
      for (const p of this.#queue.splice(0)) p.reject(failed);
      this.#queuedRows = 0;
    }
  }

  /** One insert: undefined when stored, the data failure otherwise; throws Unavailable. */
  async #store(rows: SpanRow[]): Promise<DataFailure | undefined> {
    const started = performance.now();
    try {
      await this.#sink.insertSpans(rows);
    } catch (err) {
      this.#onInsert?.(rows.length, (performance.now() - started) / 1000, err);
      const failure = classifyInsertError(err);
      if (failure.kind === 'data') return failure;
      this.#lastReason = failure.reason;
      if (!this.#down) this.#log?.(`llm-prism ingest: storage unavailable (${failure.message}); answering 503 with Retry-After ${this.retryAfterSeconds} s until an insert succeeds`);
      this.#down = true;
      throw new Unavailable(failure.message);
    }
    this.#onInsert?.(rows.length, (performance.now() - started) / 1000);
    if (this.#down) this.#log?.('llm-prism ingest: storage available again');
    this.#down = false;
    return undefined;
  }

  #settle(p: Pending): void {
    p.settled = true;
    p.resolve({ refused: p.refused });
  }

  /** `batch` failed on its data as a whole: insert its halves apart, down to single requests. */
  async #isolate(batch: Pending[], failure: DataFailure): Promise<void> {
    if (batch.length === 1) {
      const p = batch[0] as Pending;
      await this.#isolateRows(p, p.rows, failure, { left: this.maxIsolationInserts });
      this.#settle(p);
      return;
    }
    await this.#halves(splitByRows(batch), failure, (part) => part.flatMap((p) => p.rows), async (part, partFailure) => {
      if (partFailure) await this.#isolate(part, partFailure);
      else for (const p of part) this.#settle(p);
    });
  }

  /** Rows of one request that failed together: split them until the bad ones are alone. */
  async #isolateRows(p: Pending, rows: SpanRow[], failure: DataFailure, budget: { left: number }): Promise<void> {
    const refuse = (part: SpanRow[], why: DataFailure) => {
      for (const row of part) p.refused.push({ row, reason: why.message });
    };
    if (rows.length === 1 || budget.left <= 0) return refuse(rows, failure);
    if (failure.partitions && new Set(rows.map(dayOf)).size > MAX_PARTITIONS_PER_INSERT) {
      // Nothing is wrong with any one span: store them in groups of days the limit allows.
      for (const part of partitionGroups(rows, MAX_PARTITIONS_PER_INSERT).groups) {
        budget.left--;
        const partFailure = await this.#store(part);
        if (partFailure) await this.#isolateRows(p, part, partFailure, budget);
      }
      return;
    }
    await this.#halves(splitInTwo(rows), failure, (part) => part, async (part, partFailure) => {
      if (!partFailure) return;
      if (budget.left <= 0) refuse(part, partFailure);
      else await this.#isolateRows(p, part, partFailure, budget);
    }, budget);
  }

  /**
   * Inserts two halves of something that failed, handing each outcome on. A bad value that is not
   * in a cleanly stored first half is in the second, so that half is not inserted again just to
   * fail (a spread over too many days, though, may be fine in both halves).
   */
  async #halves<T>(
    [first, second]: [T[], T[]],
    failure: DataFailure,
    rowsOf: (part: T[]) => SpanRow[],
    then: (part: T[], failure: DataFailure | undefined) => Promise<void>,
    budget?: { left: number },
  ): Promise<void> {
    if (budget) budget.left--;
    const firstFailure = await this.#store(rowsOf(first));
    await then(first, firstFailure);
    if (!firstFailure && !failure.partitions) return then(second, failure);
    if (budget) {
      if (budget.left <= 0) return then(second, failure);
      budget.left--;
    }
    await then(second, await this.#store(rowsOf(second)));
  }
}

function splitInTwo<T>(items: T[]): [T[], T[]] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}

/** Two groups of requests of about equal row counts (each non-empty). */
function splitByRows(batch: Pending[]): [Pending[], Pending[]] {
  const total = batch.reduce((n, p) => n + p.rows.length, 0);
  let rows = 0;
  let at = 0;
  while (at < batch.length - 1 && rows + (batch[at] as Pending).rows.length <= total / 2) rows += (batch[at++] as Pending).rows.length;
  at = Math.max(at, 1);
  return [batch.slice(0, at), batch.slice(at)];
}
