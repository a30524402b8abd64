import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** A request failure that maps to one HTTP status and a message naming the problem. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  /** Sent as Retry-After on 429/503 so OTLP exporters back off and retry. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: ContentfulStatusCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
