import { sseData, type Emitter } from '../emitter.ts';
import { randomId } from '../headers.ts';
import type { Exchange, JsonObject, Route } from '../route.ts';
import { argumentFragments } from '../scenario.ts';
import { TEXT_TOKEN } from '../tokens.ts';
import type { FinishReason } from '../types.ts';
import { messageBlock, obfuscation, openaiError, openaiHeaders, openaiModel, toolBlocks } from './openai-common.ts';

/** `refusal` has no finish reason of its own: the refusal arrives in `delta.refusal`, then `stop`. */
const FINISH: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  refusal: 'stop',
};

function usage(ex: Exchange): JsonObject {
  const completion = ex.output.total;
  return {
    prompt_tokens: ex.prompt.total,
    completion_tokens: completion,
    total_tokens: ex.prompt.total + completion,
    prompt_tokens_details: { cached_tokens: ex.prompt.cacheRead, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: ex.output.thinking,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function chunkText(ex: Exchange): string {
  return TEXT_TOKEN.repeat(ex.scenario.tokensPerChunk);
}

export const openaiChat: Route = {
  provider: 'openai',
  failStatus: 500,
  model: openaiModel,
  stream: (body) => body.stream === true,
  prompt(body, cache) {
    const messages = Array.isArray(body.messages) ? (body.messages as JsonObject[]) : [];
    return cache.automatic('openai', [...toolBlocks(body.tools), ...messages.map(messageBlock)]);
  },
  headers: openaiHeaders,
  errorBody: openaiError,

  async writeStream(out: Emitter, ex: Exchange) {
    const s = ex.scenario;
    const id = randomId('chatcmpl-');
    const options = ex.body.stream_options as JsonObject | undefined;
    const withUsage = options?.include_usage === true;
    const withObfuscation = options?.include_obfuscation !== false;
    const chunk = (choices: JsonObject[], extra: JsonObject = {}) =>
      sseData({
        id,
        object: 'chat.completion.chunk',
        created: ex.created,
        model: ex.model,
        service_tier: 'default',
        system_fingerprint: 'fp_llmsim',
        choices,
        ...(withUsage ? { usage: null } : {}),
        ...extra,
        ...(withObfuscation ? { obfuscation: obfuscation() } : {}),
      });
    const delta = (d: JsonObject, finish: string | null = null) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
    out.errorEvents = () => [sseData(openaiError(500))];

    out.send(delta({ role: 'assistant', content: '', refusal: null }));
    // Chat Completions never streams reasoning: it only takes time before the answer.
    for (let i = 0; i < s.thinkingChunks; i++) await out.hidden();
    const field = s.finishReason === 'refusal' ? 'refusal' : 'content';
    for (let i = 0; i < s.chunks; i++) await out.output(delta({ [field]: chunkText(ex) }));
    for (const [index, call] of s.toolCalls.entries()) {
      const fragments = argumentFragments(call);
      const head = delta({
        tool_calls: [{ index, id: randomId('call_'), type: 'function', function: { name: call.name, arguments: '' } }],
      });
      for (const [i, fragment] of fragments.entries()) {
        const piece = delta({ tool_calls: [{ index, function: { arguments: fragment } }] });
        if (i === 0) await out.output(head, piece);
        else await out.output(piece);
      }
    }
    await out.finish();
    out.send(delta({}, FINISH[s.finishReason]));
    if (withUsage) out.send(chunk([], { usage: usage(ex) }));
    out.send(sseData('[DONE]'));
  },

  completeBody(ex) {
    const s = ex.scenario;
    const text = chunkText(ex).repeat(s.chunks);
    const toolCalls = s.toolCalls.map((call) => ({
      id: randomId('call_'),
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    const refused = s.finishReason === 'refusal';
    return {
      id: randomId('chatcmpl-'),
      object: 'chat.completion',
      created: ex.created,
      model: ex.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: refused ? null : text,
            refusal: refused ? text : null,
            annotations: [],
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: FINISH[s.finishReason],
        },
      ],
      usage: usage(ex),
      service_tier: 'default',
      system_fingerprint: 'fp_llmsim',
    };
  },
};
