// Which provider-side prompt cache a request reaches. Providers keep caches per organization (or
// workspace, or project), and a service may call several: tenants with their own keys, OpenAI and
// Azure or a local server behind one model name. The tracker keeps each scope's prefixes and
// conversations apart, so a tenant's first call is `cold`, never an eviction of another's prefix.
import type { RequestTarget } from '../internal-types.ts';
import { digest } from './fingerprint.ts';

/**
 * Headers that name who is calling. The credentials stand for the organization, which a request
 * does not say: two keys of one organization (which share its cache) count as two scopes, so a
 * miss on the second key's first call is `cold` where it might have been `evicted`.
 */
const CALLER_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'openai-organization', 'openai-project'] as const;

/**
 * An AWS SigV4 `authorization` (Bedrock) is signed anew for every request: only its access key id
 * names the caller. (A bearer token that rotates, Entra ID's or Google's hourly ones, still starts
 * a new scope when it changes: documented.)
 */
function callerPart(name: string, value: string): string {
  if (name !== 'authorization' || !value.startsWith('AWS4-HMAC-SHA256')) return value;
  return /Credential=([^/,\s]+)/.exec(value)?.[1] ?? value;
}

/** The endpoint's origin and a digest of the caller's headers (and Gemini's `key` query); nothing of a credential is kept. */
export function cacheScopeOf(target: RequestTarget): string {
  const url = typeof target.url === 'string' && URL.canParse(target.url) ? new URL(target.url) : target.url instanceof URL ? target.url : undefined;
  const caller = CALLER_HEADERS.map((name) => callerPart(name, target.header?.(name) ?? ''));
  caller.push(url?.searchParams.get('key') ?? '');
  return `${url?.origin ?? ''} ${digest(caller.join('\0'))}`;
}
