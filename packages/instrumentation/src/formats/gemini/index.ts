/** The Gemini wire format: generateContent / streamGenerateContent (AI Studio, Vertex AI) and `@google/genai`. */
import { GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI } from '../../semconv.ts';
import { isObject, pathSegment } from '../common.ts';
import type { PatchTarget, Route, WireFormat } from '../format.ts';
import { geminiGenerateContent, geminiParamsFromBody, geminiStreamGenerateContent } from './adapters.ts';

/** `config.abortSignal`: `httpOptions.timeout` aborts the request through the SDK's own controller. */
function applicationSignal(params: unknown): AbortSignal | undefined {
  const signal = isObject(params) && isObject(params.config) ? params.config.abortSignal : undefined;
  return signal instanceof AbortSignal ? signal : undefined;
}

function baseURL(resource: unknown): unknown {
  const api = (resource as { apiClient?: { getBaseUrl?: () => unknown } }).apiClient;
  return typeof api?.getBaseUrl === 'function' ? api.getBaseUrl() : undefined;
}

/** `…/models/{model}:generateContent`, `…:streamGenerateContent` (AI Studio `v1`/`v1beta`, Vertex AI `publishers/google/models/…`). */
const PATH = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

function route(path: string): Route | undefined {
  const g = PATH.exec(path);
  if (!g) return undefined;
  const model = pathSegment(g[1]!);
  const stream = g[2] === 'streamGenerateContent';
  return {
    api: stream ? geminiStreamGenerateContent : geminiGenerateContent,
    stream,
    pathModel: model,
    params: (body) => (isObject(body) && body.contents !== undefined ? geminiParamsFromBody(model, body) : undefined),
  };
}

// `generateContent(Stream)` are per-instance arrow functions; each model request (also within
// automatic function calling and continuation) goes through these prototype methods. The first one
// under a public method starts when the application called it (call-entry.ts).
const models: PatchTarget[] = [
  { exportName: 'Models', methodName: 'generateContentInternal', entryName: 'generateContent', api: geminiGenerateContent, baseURL, applicationSignal, parsesEveryAnswer: true },
  { exportName: 'Models', methodName: 'generateContentStreamInternal', entryName: 'generateContentStream', api: geminiStreamGenerateContent, baseURL, applicationSignal },
];

export const gemini: WireFormat<'gemini'> = {
  id: 'gemini',
  ownerName: () => GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  sdks: [
    {
      module: '@google/genai',
      versions: ['>=1.0.0 <4'],
      extensions: ['.mjs'],
      main: models,
      // `import '@google/genai/node'` loads the file the main entry resolves to in Node; imported so
      // first, the loader hook names it by its path, and the main entry's hook never runs. The
      // browser build (`@google/genai/web`) runs in Node too, on its fetch, with classes of its own.
      files: [
        { path: '@google/genai/dist/node/index', versions: ['>=1.0.0 <4'], targets: models },
        { path: '@google/genai/dist/web/index', versions: ['>=1.0.0 <4'], targets: models },
      ],
    },
  ],
  route,
  // Implicit caching of the whole prompt; reads come in blocks of 128 tokens.
  cache: { ttlMs: 5 * 60_000, minTokens: 1024, readGranularity: 128, explicit: false },
};
