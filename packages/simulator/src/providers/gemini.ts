import type { PromptBlock } from '../cache.ts';
import { sseData, type Emitter } from '../emitter.ts';
import { randomId } from '../headers.ts';
import type { Exchange, JsonObject, Route } from '../route.ts';
import { contentTokens, jsonTokens, MESSAGE_OVERHEAD_TOKENS, TEXT_TOKEN, textTokens, THINKING_TOKEN } from '../tokens.ts';
import type { FinishReason } from '../types.ts';

/** Function calls finish with STOP; Gemini has no refusal, a refused answer is a safety stop. */
const FINISH: Record<FinishReason, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  tool_calls: 'STOP',
  content_filter: 'SAFETY',
  refusal: 'SAFETY',
};

const STATUS: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: ['INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
};

function errorBody(status: number, message?: string): JsonObject {
  const [name, text] = STATUS[status] ?? STATUS[503]!;
  return { error: { code: status, message: message ?? text, status: name } };
}

function promptBlocks(body: JsonObject): PromptBlock[] {
  const tools = Array.isArray(body.tools) ? body.tools.map((tool: unknown) => ({ content: tool, tokens: jsonTokens(tool) })) : [];
  const system = body.systemInstruction as JsonObject | string | undefined;
  const systemBlocks =
    system === undefined
      ? []
      : [{ content: { system }, tokens: MESSAGE_OVERHEAD_TOKENS + contentTokens(typeof system === 'string' ? system : system.parts) }];
  const contents = Array.isArray(body.contents) ? (body.contents as JsonObject[]) : [];
  return [
    ...tools,
    ...systemBlocks,
    ...contents.map((content) => ({ content, tokens: MESSAGE_OVERHEAD_TOKENS + contentTokens(content.parts) })),
  ];
}

interface Piece {
  part: JsonObject;
  thoughts: number;
  candidates: number;
}

/** One part per output chunk: thoughts, then text, then whole function calls (Gemini does not split them). */
function pieces(ex: Exchange): Piece[] {
  const s = ex.scenario;
  const out: Piece[] = [];
  for (let i = 0; i < s.thinkingChunks; i++) {
    out.push({ part: { text: THINKING_TOKEN.repeat(s.tokensPerChunk), thought: true }, thoughts: s.tokensPerChunk, candidates: 0 });
  }
  for (let i = 0; i < s.chunks; i++) {
    out.push({ part: { text: TEXT_TOKEN.repeat(s.tokensPerChunk) }, thoughts: 0, candidates: s.tokensPerChunk });
  }
  for (const call of s.toolCalls) {
    out.push({
      part: { functionCall: { id: randomId('call_', 6), name: call.name, args: JSON.parse(call.arguments || '{}') } },
      thoughts: 0,
      candidates: textTokens(call.arguments),
    });
  }
  return out;
}

function usageMetadata(ex: Exchange, candidates: number, thoughts: number): JsonObject {
  return {
    promptTokenCount: ex.prompt.total,
    candidatesTokenCount: candidates,
    totalTokenCount: ex.prompt.total + candidates + thoughts,
    ...(ex.prompt.cacheRead > 0 ? { cachedContentTokenCount: ex.prompt.cacheRead } : {}),
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: ex.prompt.total }],
  };
}

function responseChunk(ex: Exchange, id: string, parts: JsonObject[], usage: JsonObject, finish?: string): JsonObject {
  return {
    candidates: [{ content: { parts, role: 'model' }, ...(finish ? { finishReason: finish } : {}), index: 0 }],
    usageMetadata: usage,
    modelVersion: ex.model,
    responseId: id,
  };
}

function route(stream: boolean): Route {
  return {
    provider: 'gemini',
    failStatus: 503,
    model: (_body, pathModel) => pathModel ?? '',
    stream: () => stream,
    prompt: (body, cache) => cache.automatic('gemini', promptBlocks(body)),
    headers: (_requestId, processingMs) => ({ 'server-timing': `gfet4t7; dur=${Math.round(processingMs)}` }),
    errorBody,

    async writeStream(out: Emitter, ex: Exchange) {
      const id = randomId('', 11);
      const eol = '\r\n';
      out.errorEvents = () => [sseData(errorBody(503), eol)];
      const all = pieces(ex);
      const finish = FINISH[ex.scenario.finishReason];
      let candidates = 0;
      let thoughts = 0;
      for (const [i, piece] of all.entries()) {
        candidates += piece.candidates;
        thoughts += piece.thoughts;
        const last = i === all.length - 1;
        await out.output(sseData(responseChunk(ex, id, [piece.part], usageMetadata(ex, candidates, thoughts), last ? finish : undefined), eol));
      }
      await out.finish();
      if (all.length === 0) out.send(sseData(responseChunk(ex, id, [{ text: '' }], usageMetadata(ex, 0, 0), finish), eol));
    },

    completeBody(ex) {
      const all = pieces(ex);
      const parts: JsonObject[] = [];
      // Consecutive text chunks of one kind merge into one part, as the API returns them.
      for (const { part } of all) {
        const previous = parts.at(-1);
        if (previous && typeof previous.text === 'string' && typeof part.text === 'string' && previous.thought === part.thought) {
          previous.text += part.text;
        } else parts.push({ ...part });
      }
      const candidates = all.reduce((sum, p) => sum + p.candidates, 0);
      const thoughts = all.reduce((sum, p) => sum + p.thoughts, 0);
      return responseChunk(ex, randomId('', 11), parts, usageMetadata(ex, candidates, thoughts), FINISH[ex.scenario.finishReason]);
    },
  };
}

export const geminiGenerate = route(false);
export const geminiStream = route(true);
