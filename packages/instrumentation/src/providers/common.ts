/** Helpers every provider adapter uses to read untyped JSON payloads and request options. */
import type { RequestInfo } from '../internal-types.ts';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/** `server.address` / `server.port` from a client's base URL. */
export function server(baseURL: string | undefined): Pick<RequestInfo, 'serverAddress' | 'serverPort'> {
  if (!baseURL) return { serverAddress: undefined, serverPort: undefined };
  try {
    const url = new URL(baseURL);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { serverAddress: url.hostname, serverPort: port };
  } catch {
    return { serverAddress: undefined, serverPort: undefined };
  }
}
