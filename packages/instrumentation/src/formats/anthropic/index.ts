/** The Anthropic wire format: the Messages API and `@anthropic-ai/sdk`. */
import { GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC } from '../../semconv.ts';
import { isObject, pathSegment, stainlessBaseURL } from '../common.ts';
import type { PatchTarget, Route, WireFormat } from '../format.ts';
import { anthropicMessages } from './adapter.ts';
import { sdkCallSpan, withSdkTracingOff } from './tracing.ts';

// `messages.stream()` and `messages.parse()` call `create`.
const create: PatchTarget = { exportName: 'Messages', methodName: 'create', api: anthropicMessages, baseURL: stainlessBaseURL, parentSpan: sdkCallSpan };

const messages: Route = {
  api: anthropicMessages,
  params: (body) => (isObject(body) && typeof body.model === 'string' && Array.isArray(body.messages) ? body : undefined),
};

/**
 * The Messages API on Vertex AI (`…/publishers/anthropic/models/{model}:rawPredict`, `:streamRawPredict`)
 * and on Amazon Bedrock (`/model/{model}/invoke`, `/invoke-with-response-stream`, whose stream is an
 * AWS event stream): the model is in the path, the body carries `anthropic_version` instead (which
 * also tells Anthropic's bodies from other models' on Bedrock's shared route).
 */
const CLOUD_PATH = /\/(?:publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)|model\/([^/]+)\/(invoke|invoke-with-response-stream))$/;

function cloudRoute(path: string): Route | undefined {
  const m = CLOUD_PATH.exec(path);
  if (!m) return undefined;
  const model = pathSegment(m[1] ?? m[3]!);
  return {
    api: anthropicMessages,
    stream: m[2] === 'streamRawPredict' || m[4] === 'invoke-with-response-stream',
    pathModel: model,
    params: (body) => (isObject(body) && typeof body.anthropic_version === 'string' && Array.isArray(body.messages) ? { ...body, model } : undefined),
  };
}

export const anthropic: WireFormat<'anthropic'> = {
  id: 'anthropic',
  ownerName: () => GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  sdks: [
    {
      // 0.14.0 made `client.messages` (with `messages.stream()`) generally available; before it the
      // Messages API was `client.beta.messages` only. < 0.50 uses node-fetch over node:http in Node.
      module: '@anthropic-ai/sdk',
      versions: ['>=0.14.0 <2'],
      extensions: ['.js', '.mjs'],
      files: [
        { path: '@anthropic-ai/sdk/resources/messages', versions: ['>=0.14.0 <0.33.0'], targets: [create] },
        { path: '@anthropic-ai/sdk/resources/messages/messages', versions: ['>=0.33.0 <2'], targets: [create] },
      ],
      // See tracing.ts.
      sdkTracing: {
        path: '@anthropic-ai/sdk/internal/tracing',
        exportName: 'resolveOpenTelemetryOptions',
        wrap: (original) => withSdkTracingOff(original as Parameters<typeof withSdkTracingOff>[0]),
      },
    },
  ],
  // POST `…/messages`, or the Messages API on Vertex AI and Bedrock.
  route: (path) => (path.endsWith('/messages') ? messages : cloudRoute(path)),
  // `anthropic-ratelimit-{kind}-{field}`; resets are RFC 3339 times.
  rateLimit: { prefix: 'anthropic-ratelimit-', header: (field, kind) => `anthropic-ratelimit-${kind}-${field}` },
  // Writes reported, prefixes stored only at the `cache_control` breakpoints.
  cache: { ttlMs: 5 * 60_000, minTokens: 1024, readGranularity: 0, explicit: true },
};
