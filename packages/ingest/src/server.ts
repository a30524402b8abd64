// startIngest: the Hono app on @hono/node-server, wired to storage through group commit.
import { serve } from '@hono/node-server';
import { openStorage, type Storage, type StorageOptions } from '@llm-prism/storage';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import { createIngestApp } from './app.ts';
import { DecodePool } from './decode-pool.ts';
import { GroupCommit } from './group-commit.ts';
import { IngestMetrics } from './metrics.ts';

export interface IngestOptions {
  /** Default 4318, the OTLP/HTTP port; 0 picks a free one. */
  port?: number;
  /** Default '0.0.0.0' with tokens; without tokens only loopback is allowed (default '127.0.0.1'). */
  host?: string;
  /** An open storage (left open by close()), or options to open one (closed by close()). */
  storage?: Storage;
  storageOptions?: StorageOptions;
  /** Accepted bearer tokens; default: LLM_PRISM_TOKENS (comma-separated). */
  tokens?: readonly string[];
  /** Largest request body as sent, default 16 MiB. */
  maxBodyBytes?: number;
  /** Largest body after gunzip, default 4 × maxBodyBytes. */
  maxDecodedBytes?: number;
  /** Group-commit limits: rows per insert (default 50 000) and rows waiting (default 200 000). */
  maxBatchRows?: number;
  maxQueuedRows?: number;
  /** How long the next insert waits for more rows while fewer than lingerRows are queued (default 100 ms, 8192 rows; group-commit.ts). */
  lingerMs?: number;
  lingerRows?: number;
  /** Worker threads decoding request bodies (default: one per core beyond the first, 1–4). */
  decodeWorkers?: number;
  /** Request body bytes being decoded at most before requests get 429 (default 64 MiB). */
  maxDecodingBytes?: number;
  /** Heap limit of each decode worker in MiB (default Node's); a request needing more gets 500 alone. */
  decodeWorkerHeapMb?: number;
  /** Retry-After on 429/503, seconds (default 1). */
  retryAfterSeconds?: number;
  /**
   * How long close() lets requests still arriving finish (a stalled upload, a slow client) before
   * it cuts their connections; none of them was acknowledged, so their exporters send again
   * (default 10 s).
   */
  shutdownGraceMs?: number;
  /** Start-up and shutdown messages, and storage becoming unavailable and available again; default console.error. */
  log?: (line: string) => void;
}

export interface IngestServer {
  url: string;
  port: number;
  host: string;
  app: Hono;
  metrics: IngestMetrics;
  storage: Storage;
  /** Stops accepting requests, drains the queue, then closes storage if startIngest opened it. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function tokensFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.LLM_PRISM_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/**
 * The address startIngest listens on and the tokens it accepts, or the refusal of a non-loopback
 * address without tokens: callers that open storage themselves ask first, so a refused start
 * creates nothing.
 */
export function listenAddress(options: Pick<IngestOptions, 'host' | 'tokens'> = {}): { host: string; tokens: readonly string[] } {
  const tokens = options.tokens ?? tokensFromEnv();
  const host = options.host ?? (tokens.length > 0 ? '0.0.0.0' : '127.0.0.1');
  if (tokens.length === 0 && !LOOPBACK.has(host)) {
    throw new Error(
      `refusing to listen on ${host} without authentication: configure a token (--token or LLM_PRISM_TOKENS) or use a loopback host`,
    );
  }
  return { host, tokens };
}

export async function startIngest(options: IngestOptions = {}): Promise<IngestServer> {
  const log = options.log ?? ((line: string) => console.error(line));
  const { host, tokens } = listenAddress(options);
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const ownsStorage = !options.storage;
  const storage = options.storage ?? (await openStorage(options.storageOptions));

  let metrics: IngestMetrics | undefined;
  const commit = new GroupCommit({
    sink: storage,
    maxBatchRows: options.maxBatchRows,
    maxQueuedRows: options.maxQueuedRows,
    lingerMs: options.lingerMs ?? 100,
    lingerRows: options.lingerRows ?? 8192,
    retryAfterSeconds: options.retryAfterSeconds,
    onInsert: (rows, seconds, error) => metrics?.observeInsert(rows, seconds, error),
    log,
  });
  metrics = new IngestMetrics(() => commit.queuedRows);
  const decoder = new DecodePool({
    workers: options.decodeWorkers,
    maxDecodingBytes: options.maxDecodingBytes,
    workerHeapMb: options.decodeWorkerHeapMb,
    retryAfterSeconds: options.retryAfterSeconds,
  });
  const app = createIngestApp({
    commit,
    // Bodies are readBody's own buffers, not used after decoding: moved to the worker, not copied.
    decode: (encoding, body) => decoder.decode(encoding, body, true),
    metrics,
    ping: () => storage.ping(),
    tokens,
    maxBodyBytes,
    maxDecodedBytes: options.maxDecodedBytes ?? 4 * maxBodyBytes,
  });

  const server = serve({ fetch: app.fetch, port: options.port ?? 4318, hostname: host });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (err) {
    await decoder.close();
    if (ownsStorage) await storage.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  log(`llm-prism ingest: listening on ${url}/v1/traces (OTLP/HTTP, protobuf and JSON)`);
  if (tokens.length === 0) {
    log(`llm-prism ingest: no tokens configured, so only loopback (${host}) is served; set --token or LLM_PRISM_TOKENS to accept remote exporters`);
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await commit.close();
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      // A client still sending (one stalled upload held a shutdown for as long as it stayed
      // connected) is cut after the grace period: nothing of its request was acknowledged.
      const cut = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, options.shutdownGraceMs ?? 10_000);
      await stopped;
      clearTimeout(cut);
      await decoder.close();
      if (ownsStorage) await storage.close();
    })());

  return { url, port, host, app, metrics, storage, close };
}
