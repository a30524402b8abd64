// The OTLP/HTTP trace receiver as a Hono app: POST /v1/traces plus health, readiness and metrics.
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { readBody, type BodyLimits } from './body.ts';
import type { GroupCommit } from './group-commit.ts';
import { HttpError } from './http-error.ts';
import type { IngestMetrics } from './metrics.ts';
import { encodeExportResponse, encodeStatus, MalformedPayloadError, type OtlpEncoding } from './otlp-codec.ts';
import type { DecodedRequest } from './decode-pool.ts';
import { dayOf, MAX_DAYS_PER_REQUEST } from './partition-groups.ts';

export interface IngestAppOptions extends BodyLimits {
  commit: GroupCommit;
  /** A request body to rows, off the event loop (decode-pool.ts); throws MalformedPayloadError. */
  decode: (encoding: OtlpEncoding, body: Uint8Array) => Promise<DecodedRequest>;
  metrics: IngestMetrics;
  /** Storage reachability for /readyz. */
  ping: () => Promise<boolean>;
  /** Accepted bearer tokens; empty means no authentication. */
  tokens: readonly string[];
}

const MEDIA_TYPES: Record<string, OtlpEncoding> = {
  'application/x-protobuf': 'protobuf',
  'application/json': 'json',
};
const CONTENT_TYPES: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Errors are answered in the request's encoding when it is a known one, else in JSON. */
function errorResponse(c: Context, status: ContentfulStatusCode, message: string, retryAfterSeconds?: number): Response {
  const encoding = MEDIA_TYPES[mediaType(c)] ?? 'json';
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[encoding] };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  // google.rpc.Status carries a gRPC code; the HTTP status is what clients act on.
  return c.body(encodeStatus(encoding, grpcCode(status), message) as Uint8Array<ArrayBuffer> | string, status, headers);
}

function grpcCode(status: number): number {
  if (status === 400 || status === 413 || status === 415) return 3; // INVALID_ARGUMENT
  if (status === 405) return 12; // UNIMPLEMENTED
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 429) return 8; // RESOURCE_EXHAUSTED
  if (status === 503) return 14; // UNAVAILABLE
  return 13; // INTERNAL
}

/** Rejected spans named one by one in `partial_success.error_message`, at most. */
const NAMED_REJECTIONS = 20;

function rejectionMessage(problems: string[]): string {
  const named = problems.slice(0, NAMED_REJECTIONS);
  const more = problems.length - named.length;
  return `${problems.length} span(s) rejected: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

export function createIngestApp(options: IngestAppOptions): Hono {
  const { commit, metrics } = options;
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HttpError) return errorResponse(c, err.status, err.message, err.retryAfterSeconds);
    // bearerAuth's answers, already built by errorResponse.
    if (err instanceof HTTPException) return err.getResponse();
    console.error('llm-prism ingest: unexpected error', err);
    return errorResponse(c, 500, `internal error: ${err.message}`);
  });

  app.get('/healthz', (c) => c.text('ok'));
  app.get('/readyz', async (c) => {
    return (await options.ping()) ? c.text('ready') : c.text('storage unreachable', 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );

  app.use('/v1/*', async (c, next) => {
    await next();
    metrics.requests.inc({ status: String(c.res.status) });
  });
  if (options.tokens.length > 0) {
    const unauthorized = (message: string) => (c: Context) => errorResponse(c, 401, message);
    app.use(
      '/v1/*',
      bearerAuth({
        token: [...options.tokens],
        noAuthenticationHeader: { message: unauthorized('missing bearer token: send Authorization: Bearer <token>') },
        invalidAuthenticationHeader: { message: unauthorized('malformed Authorization header: expected Bearer <token>') },
        invalidToken: { message: unauthorized('invalid bearer token') },
      }),
    );
  }

  app.post('/v1/traces', async (c) => {
    const type = mediaType(c);
    const encoding = MEDIA_TYPES[type];
    if (!encoding) {
      throw new HttpError(
        415,
        `unsupported media type ${JSON.stringify(type)}: send application/x-protobuf or application/json`,
      );
    }
    const contentEncoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (contentEncoding !== 'gzip' && contentEncoding !== 'identity') {
      throw new HttpError(415, `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: send gzip or none`);
    }
    // Served by @hono/node-server, the request's own Node stream; else (app.request) its web stream.
    const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
    const body = await readBody(
      incoming instanceof Readable ? incoming : (c.req.raw.body as ReadableStream<Uint8Array> | null),
      c.req.header('content-length'),
      contentEncoding === 'gzip',
      options,
    );

    let converted;
    try {
      converted = await options.decode(encoding, body);
    } catch (err) {
      if (err instanceof MalformedPayloadError) throw new HttpError(400, err.message);
      throw err;
    }
    const { rows, rejections } = converted;
    const days = new Set(rows.map(dayOf)).size;
    if (days > MAX_DAYS_PER_REQUEST) {
      throw new HttpError(
        400,
        `spans of this request start on ${days} different days (UTC); at most ${MAX_DAYS_PER_REQUEST} per request: send them in smaller requests`,
      );
    }
    metrics.spansReceived.inc(rows.length + rejections.length);
    for (const r of rejections) metrics.spansRejected.inc({ reason: r.reason });

    let refused;
    try {
      ({ refused } = await commit.submit(rows));
    } catch (err) {
      if (err instanceof HttpError) {
        metrics.spansRejected.inc({ reason: err.status === 429 ? 'queue_full' : 'storage_unavailable' }, rows.length);
      }
      throw err;
    }
    metrics.spansStored.inc(rows.length - refused.length);
    // Spans ClickHouse refused for their data (group-commit.ts isolated them from the batch).
    if (refused.length > 0) metrics.spansRejected.inc({ reason: 'storage_refused' }, refused.length);
    const notStored = [
      ...rejections.map((r) => r.message),
      ...refused.map((r) => `span ${JSON.stringify(r.row.SpanName)} (span_id ${r.row.SpanId}): storage refused it: ${r.reason}`),
    ];
    const partial = notStored.length > 0 ? { rejectedSpans: notStored.length, errorMessage: rejectionMessage(notStored) } : undefined;
    // Nothing stored, every span refused (here or by storage): the request failed, and is not worth
    // retrying (OTLP/HTTP: a failure is a 4xx; partial success is for a request partly accepted).
    if (partial !== undefined && refused.length === rows.length) throw new HttpError(400, partial.errorMessage);
    const payload = encodeExportResponse(encoding, partial) as Uint8Array<ArrayBuffer> | string;
    return c.body(payload, 200, { 'content-type': CONTENT_TYPES[encoding] });
  });
  // As the Collector: any other method on the export path is 405, not 404.
  app.all('/v1/traces', (c) => {
    const response = errorResponse(c, 405, `${c.req.method} method not allowed on /v1/traces: send POST`);
    response.headers.set('allow', 'POST');
    return response;
  });

  return app;
}
