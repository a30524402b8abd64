// Decoding a request, building its rows and encoding them costs 10–20 µs per span: a 20 000-span
// request would hold the event loop for a quarter to a whole second (seconds on a loaded machine).
// A small pool of worker threads does it instead; the main thread only receives the encoded rows,
// in slices. What is being decoded is bounded in bytes: beyond it requests get 429, like a full
// group-commit queue.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { encodedRows, type EncodedRows, type EncodedTraceRow } from '@llm-prism/storage/rows';
import { HttpError } from './http-error.ts';
import { MalformedPayloadError, type OtlpEncoding } from './otlp-codec.ts';
import type { Rejection } from './otlp-to-rows.ts';

/** A request's spans as rows ready to insert, and the spans refused (otlp-to-rows.ts). */
export interface DecodedRequest {
  rows: EncodedTraceRow[];
  rejections: Rejection[];
}

export interface DecodeJob {
  id: number;
  encoding: OtlpEncoding;
  body: Uint8Array;
}

/** The main thread has taken a request's chunk: the worker sends the next. */
export interface DecodeNext {
  next: number;
}

export type DecodeReply =
  | { id: number; rows: EncodedRows }
  | { id: number; done: true; rejections: Rejection[] }
  | { id: number; malformed: string }
  | { id: number; failed: string };

export interface DecodePoolOptions {
  /** Worker threads (default: one per core beyond the first, at least 1, at most 4). */
  workers?: number;
  /**
   * Body bytes being decoded at most, over all workers (default 64 MiB); one request is always
   * taken. The last eighth is kept for small bodies (at most a 64th of it each): a client sending
   * large bodies cannot hold up another's exporter batches.
   */
  maxDecodingBytes?: number;
  /** Retry-After on 429 (seconds). */
  retryAfterSeconds?: number;
  /** Heap limit of each worker (MiB; default Node's): a request that needs more fails alone, with 500. */
  workerHeapMb?: number;
}

interface Job {
  bytes: number;
  rows: EncodedTraceRow[];
  resolve: (result: DecodedRequest) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  /** Undefined after the worker stopped, until the next request starts another. */
  worker: Worker | undefined;
  jobs: Map<number, Job>;
}

// From source (`.ts`, the repo's tests and tools) the worker resolves workspace packages as Vite
// and the parent did: by the llm-prism-source condition.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js', import.meta.url);
const WORKER_ARGV = import.meta.url.endsWith('.ts') ? [...process.execArgv, '--conditions=llm-prism-source'] : undefined;

export class DecodePool {
  readonly maxDecodingBytes: number;
  readonly retryAfterSeconds: number;
  #slots: Slot[] = [];
  #resourceLimits: { maxOldGenerationSizeMb: number } | undefined;
  #nextId = 0;
  #decodingBytes = 0;
  #closed = false;

  constructor(options: DecodePoolOptions = {}) {
    const workers = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`decode workers must be a positive whole number, got ${workers}`);
    this.maxDecodingBytes = options.maxDecodingBytes ?? 64 * 1024 * 1024;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.#resourceLimits = options.workerHeapMb === undefined ? undefined : { maxOldGenerationSizeMb: options.workerHeapMb };
    for (let i = 0; i < workers; i++) this.#slots.push(this.#start());
  }

  /** Body bytes handed to workers and not yet turned into rows. */
  get decodingBytes(): number {
    return this.#decodingBytes;
  }

  /**
   * The rows of one request body; MalformedPayloadError when it is not a valid request. `owned`:
   * the body is the pool's to hand over, so a body alone in its ArrayBuffer is moved to the worker
   * (transferred, unusable here afterwards) instead of copied.
   */
  decode(encoding: OtlpEncoding, body: Uint8Array, owned = false): Promise<DecodedRequest> {
    if (this.#closed) return Promise.reject(new HttpError(503, 'ingest is shutting down', this.retryAfterSeconds));
    const small = body.byteLength <= this.maxDecodingBytes / 64;
    const limit = small ? this.maxDecodingBytes : this.maxDecodingBytes - this.maxDecodingBytes / 8;
    if (this.#decodingBytes > 0 && this.#decodingBytes + body.byteLength > limit) {
      return Promise.reject(
        new HttpError(429, `ingest is decoding ${this.#decodingBytes} bytes of requests (limit ${limit}${small ? '' : ' for bodies over ' + this.maxDecodingBytes / 64 + ' bytes'}): try again later`, this.retryAfterSeconds),
      );
    }
    const slot = this.#slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    // A worker that stopped is replaced when there is work for it, not at once: one that cannot
    // start (e.g. a heap limit too small) then fails requests instead of restarting in a loop.
    slot.worker ??= this.#spawn(slot);
    const id = this.#nextId++;
    this.#decodingBytes += body.byteLength;
    return new Promise<DecodedRequest>((resolve, reject) => {
      slot.jobs.set(id, { bytes: body.byteLength, rows: [], resolve, reject });
      const alone = owned && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      slot.worker!.postMessage({ id, encoding, body } satisfies DecodeJob, alone ? [body.buffer as ArrayBuffer] : []);
    });
  }

  /** Stops the workers; requests still being decoded fail with 503. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    for (const slot of slots) this.#fail(slot, new HttpError(503, 'ingest is shutting down', this.retryAfterSeconds));
    await Promise.all(slots.map((slot) => slot.worker?.terminate()));
  }

  #start(): Slot {
    const slot: Slot = { worker: undefined, jobs: new Map() };
    slot.worker = this.#spawn(slot);
    return slot;
  }

  #spawn(slot: Slot): Worker {
    const worker = new Worker(WORKER_URL, { execArgv: WORKER_ARGV, resourceLimits: this.#resourceLimits });
    // Idle workers do not keep the process alive; open requests and the server do.
    worker.unref();
    worker.on('message', (reply: DecodeReply) => this.#receive(slot, reply));
    const lost = (why: string) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      this.#fail(slot, new Error(`decode worker stopped: ${why}`));
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return worker;
  }

  #receive(slot: Slot, reply: DecodeReply): void {
    const job = slot.jobs.get(reply.id);
    if ('rows' in reply) {
      if (job) for (const row of encodedRows(reply.rows)) job.rows.push(row);
      // After taking this chunk, so that the next arrives on a later turn (asked for even when the
      // job is gone, so that the worker lets go of the rest).
      slot.worker?.postMessage({ next: reply.id } satisfies DecodeNext);
      return;
    }
    if (!job) return;
    this.#finish(slot, reply.id, job);
    if ('done' in reply) job.resolve({ rows: job.rows, rejections: reply.rejections });
    else if ('malformed' in reply) job.reject(new MalformedPayloadError(reply.malformed));
    else job.reject(new Error(`decoding failed: ${reply.failed}`));
  }

  #finish(slot: Slot, id: number, job: Job): void {
    slot.jobs.delete(id);
    this.#decodingBytes -= job.bytes;
  }

  #fail(slot: Slot, err: unknown): void {
    for (const [id, job] of slot.jobs) {
      this.#finish(slot, id, job);
      job.reject(err);
    }
  }
}
