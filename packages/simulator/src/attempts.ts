import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Numbers the attempts of one logical request. Attempts are recognised by a hash of method, path
 * and body, so an SDK's retries of the same request count up; a logical request ends with its
 * first success, and the Stainless SDKs' `x-stainless-retry-count: 0` starts a new one even when
 * an identical request failed before.
 */
export class AttemptTracker {
  readonly #seen = new Map<string, number>();

  next(method: string, path: string, body: Buffer, headers: IncomingHttpHeaders): { key: string; attempt: number } {
    const key = createHash('sha256').update(`${method} ${path}\n`).update(body).digest('hex');
    if (headers['x-stainless-retry-count'] === '0') this.#seen.delete(key);
    const attempt = this.#seen.get(key) ?? 0;
    this.#seen.set(key, attempt + 1);
    return { key, attempt };
  }

  succeeded(key: string): void {
    this.#seen.delete(key);
  }
}
