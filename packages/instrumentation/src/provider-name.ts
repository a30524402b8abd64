/**
 * `gen_ai.provider.name` from where a request goes: its host, its path and its headers, with the
 * GenAI semantic conventions' well-known values. The same rules name SDK calls (from the client's
 * base URL, then from each request's URL) and calls recognised on the wire (wire-calls.ts).
 *
 * Rules, first match wins (docs/conventions.md "Provider names"):
 * 1. a gateway that says which provider it forwards to: Portkey's `x-portkey-provider` header,
 *    Cloudflare AI Gateway's provider path segment (`gateway.ai.cloudflare.com/v1/{account}/{gateway}/{provider}/…`);
 * 2. the host of a provider with a well-known value (`api.openai.com` → `openai`,
 *    `*.openai.azure.com` → `azure.ai.openai`, `api.groq.com` → `groq`, …);
 * 3. otherwise what the wire format says (its `ownerName`, formats/): for the OpenAI format
 *    `azure.ai.openai` when the request has Azure OpenAI's shape (a `/openai/deployments/{deployment}/…`
 *    path, an `api-version` query parameter, or the `AzureOpenAI` client), else the format's owner:
 *    `openai` (Chat Completions, Responses), `anthropic` (Messages), `gcp.gemini` (generateContent).
 *    An OpenAI-compatible server of unknown name (vLLM, Ollama, LiteLLM, OpenRouter, Together, …)
 *    is thus `openai`, and `server.address` / `server.port` say which host answered.
 */
import { LruMap } from './cache/lru.ts';
import { parseURL } from './formats/common.ts';
import { formatOf, type ProviderId } from './formats/index.ts';
import type { RequestTarget } from './internal-types.ts';
import {
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
  GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE,
  GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI,
  GEN_AI_PROVIDER_NAME_VALUE_COHERE,
  GEN_AI_PROVIDER_NAME_VALUE_DEEPSEEK,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI,
  GEN_AI_PROVIDER_NAME_VALUE_GROQ,
  GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
  GEN_AI_PROVIDER_NAME_VALUE_PERPLEXITY,
  GEN_AI_PROVIDER_NAME_VALUE_X_AI,
} from './semconv.ts';

/** Hosts (exact or any subdomain of the suffix) → well-known value. */
const HOSTS: ReadonlyArray<readonly [suffix: string, name: string]> = [
  ['api.openai.com', GEN_AI_PROVIDER_NAME_VALUE_OPENAI],
  ['openai.azure.com', GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI],
  ['cognitiveservices.azure.com', GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI],
  ['models.ai.azure.com', GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE],
  ['api.anthropic.com', GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC],
  ['generativelanguage.googleapis.com', GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI],
  ['aiplatform.googleapis.com', GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI],
  ['groq.com', GEN_AI_PROVIDER_NAME_VALUE_GROQ],
  ['deepseek.com', GEN_AI_PROVIDER_NAME_VALUE_DEEPSEEK],
  ['x.ai', GEN_AI_PROVIDER_NAME_VALUE_X_AI],
  ['mistral.ai', GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI],
  ['perplexity.ai', GEN_AI_PROVIDER_NAME_VALUE_PERPLEXITY],
  ['cohere.ai', GEN_AI_PROVIDER_NAME_VALUE_COHERE],
  ['cohere.com', GEN_AI_PROVIDER_NAME_VALUE_COHERE],
];

/**
 * Vertex AI's regional hosts: `{region}-aiplatform.googleapis.com`, and the multi-region ones
 * (`aiplatform.us.rep.googleapis.com`: AnthropicVertex's and `@google/genai`'s for `us` and `eu`).
 */
const VERTEX_REGIONAL = /^(?:[a-z0-9-]+-aiplatform|aiplatform\.[a-z0-9-]+\.rep)\.googleapis\.com$/;
/**
 * Bedrock runtime hosts (also its OpenAI-compatible endpoints): `bedrock-runtime.{region}.amazonaws.com`,
 * `bedrock-mantle.…`, and the dual-stack `….{region}.api.aws` (AnthropicBedrockMantle's default).
 */
const BEDROCK = /^bedrock(?:-runtime|-mantle)?(?:-fips)?\.[a-z0-9-]+\.(?:amazonaws\.com(?:\.cn)?|api\.aws)$/;
/** Azure AI Foundry resources serve Azure OpenAI under `/openai/…` and Azure AI Inference under `/models/…`. */
const FOUNDRY = 'services.ai.azure.com';

/** How gateways name the provider they forward to (Portkey's header, Cloudflare's path segment) → well-known value. */
const GATEWAY_ALIASES: Readonly<Record<string, string>> = {
  openai: GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
  'azure-openai': GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI,
  'azure-ai': GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE,
  'azure-ai-inference': GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE,
  anthropic: GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  google: GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  'google-ai-studio': GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  'vertex-ai': GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI,
  'google-vertex-ai': GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI,
  bedrock: GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
  'aws-bedrock': GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
  groq: GEN_AI_PROVIDER_NAME_VALUE_GROQ,
  deepseek: GEN_AI_PROVIDER_NAME_VALUE_DEEPSEEK,
  'x-ai': GEN_AI_PROVIDER_NAME_VALUE_X_AI,
  grok: GEN_AI_PROVIDER_NAME_VALUE_X_AI,
  mistral: GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI,
  'mistral-ai': GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI,
  perplexity: GEN_AI_PROVIDER_NAME_VALUE_PERPLEXITY,
  'perplexity-ai': GEN_AI_PROVIDER_NAME_VALUE_PERPLEXITY,
  cohere: GEN_AI_PROVIDER_NAME_VALUE_COHERE,
};

/** `host` is `suffix` or a subdomain of it (no string built: this runs for every host of the list, for every call). */
const hostIs = (host: string, suffix: string): boolean =>
  host === suffix || (host.endsWith(suffix) && host.charCodeAt(host.length - suffix.length - 1) === 0x2e);

/** A URL to read (never written here: a URL given is used as it is, not copied; a string's is shared, formats/common.ts). */
function parse(url: string | URL | undefined): URL | undefined {
  if (url === undefined || url instanceof URL) return url;
  return parseURL(url);
}

function byGateway(url: URL, header: RequestTarget['header']): string | undefined {
  const portkey = header?.('x-portkey-provider')?.trim().toLowerCase();
  if (portkey) return GATEWAY_ALIASES[portkey];
  if (url.hostname === 'gateway.ai.cloudflare.com') {
    // /v1/{account}/{gateway}/{provider}/…
    const segment = url.pathname.split('/')[4]?.toLowerCase();
    return segment ? GATEWAY_ALIASES[segment] : undefined;
  }
  return undefined;
}

/** byHost's answers by host (the regular expressions and the host list; not the path rule), for the same few hosts every call. */
const namedHosts = new LruMap<string, string | undefined>(64);

function byHost(url: URL): string | undefined {
  const host = url.hostname.toLowerCase();
  if (hostIs(host, FOUNDRY)) {
    return url.pathname.startsWith('/openai/') || url.pathname === '/openai' ? GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI : GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE;
  }
  if (namedHosts.has(host)) return namedHosts.peek(host);
  const name = VERTEX_REGIONAL.test(host)
    ? GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI
    : BEDROCK.test(host)
      ? GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK
      : HOSTS.find(([suffix]) => hostIs(host, suffix))?.[1];
  namedHosts.set(host, name);
  return name;
}

/** `gen_ai.provider.name` of a request in wire format `format` (rules above). Never throws. */
export function providerName(format: ProviderId, target: RequestTarget): string {
  const wireFormat = formatOf(format);
  try {
    const url = parse(target.url);
    const named = url && (byGateway(url, target.header) ?? byHost(url));
    if (named) return named;
    return wireFormat.ownerName(url, target);
  } catch {
    // The format's owner, as for a request of unknown target.
    return wireFormat.ownerName(undefined, { url: undefined });
  }
}

/** `server.address` / `server.port` of a URL (the port defaulted from the scheme). */
export function serverOf(url: string | URL | undefined): { serverAddress: string | undefined; serverPort: number | undefined } {
  const u = parse(url);
  if (!u) return { serverAddress: undefined, serverPort: undefined };
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { serverAddress: u.hostname.replace(/^\[(.*)\]$/, '$1'), serverPort: port };
}
