/** Prompt-cache segments of request parameters, by provider id and SDK method (tests of the cache and of the formats). */
import type { PrefixSegment } from '../src/cache/index.ts';
import { isObject } from '../src/formats/common.ts';
import type { Api } from '../src/formats/format.ts';
import { formatOf, type ProviderId } from '../src/formats/index.ts';

/** The segments of `params` passed to SDK method `method` of format `provider` (as the instrumentation takes them). */
export function segmentsFor(provider: ProviderId, method: string, params: unknown): PrefixSegment[] {
  const apis: Api[] = formatOf(provider).sdks.flatMap((sdk) => [...(sdk.main ?? []), ...sdk.files.flatMap((f) => f.targets)].map((t) => t.api));
  const api = apis.find((a) => a.method === method);
  if (!api) throw new Error(`no ${method} in ${provider}`);
  return isObject(params) ? api.segments(params) : [];
}
