import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AttemptTracker } from './attempts.ts';
import { PromptCache } from './cache.ts';
import { Emitter, sleepUntil, StreamEnded } from './emitter.ts';
import { randomId, rateLimitHeaders } from './headers.ts';
import { anthropicMessages } from './providers/anthropic.ts';
import { bedrockInvoke, bedrockInvokeStream, vertexRawPredict, vertexStreamRawPredict } from './providers/anthropic-cloud.ts';
import { geminiGenerate, geminiStream } from './providers/gemini.ts';
import { openaiChat } from './providers/openai-chat.ts';
import { openaiResponses } from './providers/openai-responses.ts';
import { BadRequest, type JsonObject, type Route } from './route.ts';
import {
  outputChunkCount,
  outputTokens,
  parseScenarioHeader,
  resolveScenario,
  SCENARIO_HEADER,
  type ResolvedScenario,
} from './scenario.ts';
import type { CacheOptions, RequestLogEntry, Scenario } from './types.ts';

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  cache?: CacheOptions;
  defaultScenario?: Scenario;
}

export interface Simulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  openaiBaseURL: string;
  anthropicBaseURL: string;
  geminiBaseURL: string;
  setDefaultScenario(scenario: Scenario): void;
  /** Requests for this model follow `scenario` unless their header says otherwise. */
  scenarioForModel(model: string, scenario: Scenario): void;
  /** Every request received, in arrival order. */
  requests: RequestLogEntry[];
  cache: PromptCache;
  close(): Promise<void>;
}

interface Match {
  route: Route;
  /** The model the path names: Gemini's `models/{model}`, an Azure OpenAI deployment. */
  pathModel?: string;
}

/**
 * Routes are recognised by how the path ends, under any prefix: `/v1`, none, a gateway's
 * (`/openai/v1`, `/api/v1`, `/v1/openai`, `/anthropic/v1`), Vertex AI's `/v1/projects/…/publishers/google`.
 * Azure OpenAI names the deployment in the path: `…/deployments/{deployment}/chat/completions`;
 * Amazon Bedrock and Vertex AI's Anthropic routes the model: `/model/{modelId}/invoke`,
 * `…/publishers/anthropic/models/{model}:rawPredict`.
 */
const OPENAI_PATH = /(?:^|\/)(?:deployments\/([^/]+)\/)?(chat\/completions|responses)$/;
const ANTHROPIC_PATH = /(?:^|\/)messages$/;
const GEMINI_PATH = /(?:^|\/)models\/([^/:]+):(generateContent|streamGenerateContent)$/;
/** Amazon Bedrock's InvokeModel routes, for Anthropic models: `/model/{modelId}/invoke[-with-response-stream]`. */
const BEDROCK_PATH = /(?:^|\/)model\/([^/]+)\/(invoke|invoke-with-response-stream)$/;
/** Anthropic models on Vertex AI: `…/publishers/anthropic/models/{model}:rawPredict`, `:streamRawPredict`. */
const VERTEX_ANTHROPIC_PATH = /\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;

function pathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function match(method: string | undefined, pathname: string): Match | undefined {
  if (method !== 'POST') return undefined;
  const openai = OPENAI_PATH.exec(pathname);
  if (openai) {
    const route = openai[2] === 'responses' ? openaiResponses : openaiChat;
    return openai[1] === undefined ? { route } : { route, pathModel: pathSegment(openai[1]) };
  }
  if (ANTHROPIC_PATH.test(pathname)) return { route: anthropicMessages };
  const bedrock = BEDROCK_PATH.exec(pathname);
  if (bedrock?.[1] !== undefined) return { route: bedrock[2] === 'invoke' ? bedrockInvoke : bedrockInvokeStream, pathModel: pathSegment(bedrock[1]) };
  const vertex = VERTEX_ANTHROPIC_PATH.exec(pathname);
  if (vertex?.[1] !== undefined) return { route: vertex[2] === 'rawPredict' ? vertexRawPredict : vertexStreamRawPredict, pathModel: pathSegment(vertex[1]) };
  const gemini = GEMINI_PATH.exec(pathname);
  if (gemini?.[1] !== undefined) {
    return { route: gemini[2] === 'generateContent' ? geminiGenerate : geminiStream, pathModel: pathSegment(gemini[1]) };
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const cache = new PromptCache(options.cache);
  const attempts = new AttemptTracker();
  const requests: RequestLogEntry[] = [];
  const byModel = new Map<string, Scenario>();
  let defaultScenario: Scenario = options.defaultScenario ?? {};

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Due times are planned from arrival, in performance.now() time.
    const arrival = performance.now();
    const receivedAt = performance.timeOrigin + arrival;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const found = match(req.method, url.pathname);
    const raw = await readBody(req);
    if (!found) {
      sendJson(res, 404, {}, { error: { message: `No route for ${req.method} ${url.pathname}`, type: 'not_found' } });
      return;
    }
    const { route } = found;
    const requestId = randomId('req_');
    const log = (model: string, attempt: number, status: number) =>
      requests.push({ provider: route.provider, path: url.pathname, model, attempt, status, receivedAt });
    const reply = (status: number, headers: Record<string, string>, body: unknown) =>
      sendJson(res, status, { ...route.headers(requestId, performance.now() - arrival), ...headers }, body);

    let body: JsonObject;
    let model: string;
    let scenario: ResolvedScenario;
    try {
      body = JSON.parse(raw.toString('utf8')) as JsonObject;
      model = route.model(body, found.pathModel);
      scenario = resolveScenario(parseScenarioHeader(req.headers[SCENARIO_HEADER]) ?? byModel.get(model) ?? defaultScenario);
    } catch (error) {
      log(found.pathModel ?? '', 0, 400);
      reply(400, {}, route.errorBody(400, (error as Error).message));
      return;
    }
    const { key, attempt } = attempts.next(req.method ?? 'POST', url.pathname + url.search, raw, req.headers);
    const limits = rateLimitHeaders(route.provider, scenario.rateLimit, Date.now());

    const injected = scenario.httpErrors;
    if (injected && attempt < injected.count) {
      log(model, attempt, injected.status);
      await sleepUntil(arrival + scenario.queueMs);
      const retry: Record<string, string> = injected.retryAfterS === undefined ? {} : { 'retry-after': String(injected.retryAfterS) };
      if (route.provider === 'anthropic') retry['x-should-retry'] = 'true';
      reply(injected.status, { ...limits, ...retry }, route.errorBody(injected.status));
      return;
    }

    let prompt;
    try {
      prompt = route.prompt(body, cache);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      log(model, attempt, 400);
      reply(400, limits, route.errorBody(400, error.message));
      return;
    }
    const exchange = {
      body,
      model,
      scenario,
      prompt,
      output: outputTokens(scenario),
      created: Math.floor(Date.now() / 1000),
    };
    const fails = scenario.failAfterChunks !== undefined;
    const streamed = route.stream(body);
    // A failed non-streamed answer gets retried by the SDKs: those retries are later attempts.
    if (streamed || !fails) attempts.succeeded(key);

    if (!streamed) {
      const dropped = fails && scenario.failMode === 'drop';
      log(model, attempt, dropped ? 0 : fails ? route.failStatus : 200);
      // A non-streamed answer leaves in one piece once it is fully generated, as the providers do.
      const chunks = outputChunkCount(scenario);
      await sleepUntil(arrival + scenario.queueMs + scenario.prefillMs + Math.max(0, chunks - 1) * scenario.chunkIntervalMs);
      if (dropped) res.socket?.destroy();
      else if (fails) reply(route.failStatus, limits, route.errorBody(route.failStatus));
      else reply(200, limits, route.completeBody(exchange));
      return;
    }

    log(model, attempt, 200);
    const headersAt = arrival + scenario.queueMs;
    await sleepUntil(headersAt);
    res.writeHead(200, {
      ...route.headers(requestId, performance.now() - arrival),
      ...limits,
      'content-type': route.streamContentType ?? 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    res.flushHeaders();
    const out = new Emitter(res, scenario, headersAt, route.frame);
    try {
      await route.writeStream(out, exchange);
      res.end();
    } catch (error) {
      if (!(error instanceof StreamEnded)) throw error;
    }
  }

  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A simulator bug must be loud in tests, never a hang.
      console.error('llm-prism simulator:', error);
      if (!res.headersSent) sendJson(res, 500, {}, { error: { message: String(error), type: 'simulator_error' } });
      else res.socket?.destroy();
    });
  });
  server.on('connection', (socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    geminiBaseURL: url,
    setDefaultScenario(scenario) {
      defaultScenario = scenario;
    },
    scenarioForModel(model, scenario) {
      byModel.set(model, scenario);
    },
    requests,
    cache,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
