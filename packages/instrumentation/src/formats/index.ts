/**
 * The wire formats the instrumentation knows, one folder each: the core patches their SDKs,
 * recognises their routes on the wire, names their providers, reads their rate-limit headers and
 * models their prompt caches by iterating this list. A new format is a folder, its id in ids.ts and one line here.
 */
import type { CacheModel } from '../cache/index.ts';
import { anthropic } from './anthropic/index.ts';
import type { RateLimitScheme, Route, WireFormat } from './format.ts';
import type { ProviderId } from './ids.ts';
import { gemini } from './gemini/index.ts';
import { openai } from './openai/index.ts';

export type { ProviderId } from './ids.ts';

/** Every format by its id: the type requires one for each ProviderId, and its own id. */
const BY_ID: { readonly [Id in ProviderId]: WireFormat<Id> } = { openai, anthropic, gemini };

export const FORMATS: readonly WireFormat<ProviderId>[] = Object.values(BY_ID);

export function formatOf(id: ProviderId): WireFormat<ProviderId> {
  return BY_ID[id];
}

/** Each format's prompt-cache model, by provider id (the cache tracker's `models`). */
export const CACHE_MODELS: Readonly<Record<ProviderId, CacheModel>> = Object.fromEntries(FORMATS.map((f) => [f.id, f.cache])) as Record<ProviderId, CacheModel>;

/** The rate-limit header schemes of the formats that have one. */
export const RATE_LIMIT_SCHEMES: readonly RateLimitScheme[] = FORMATS.flatMap((f) => (f.rateLimit ? [f.rateLimit] : []));

/** A route recognised on the wire, with its format. */
export interface WireRoute extends Route {
  format: ProviderId;
}

/**
 * The route of a request, from its method and path alone (any host, any prefix; the query is
 * ignored): a POST to one of the formats' routes. Anything else is undefined.
 */
export function wireRoute(method: string | undefined, pathname: string): WireRoute | undefined {
  if (method?.toUpperCase() !== 'POST') return undefined;
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  for (const format of FORMATS) {
    const route = format.route(path);
    if (route) return { ...route, format: format.id };
  }
  return undefined;
}
