import { sseEvent, type Emitter } from '../emitter.ts';
import { randomId } from '../headers.ts';
import type { Exchange, JsonObject, Route } from '../route.ts';
import { argumentFragments } from '../scenario.ts';
import { MESSAGE_OVERHEAD_TOKENS, TEXT_TOKEN, textTokens, THINKING_TOKEN } from '../tokens.ts';
import { messageBlock, openaiError, openaiHeaders, openaiModel, toolBlocks } from './openai-common.ts';

function promptBlocks(body: JsonObject) {
  const instructions =
    typeof body.instructions === 'string'
      ? [{ content: { instructions: body.instructions }, tokens: MESSAGE_OVERHEAD_TOKENS + textTokens(body.instructions) }]
      : [];
  const input = body.input;
  const items = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? (input as JsonObject[]) : [];
  return [...toolBlocks(body.tools), ...instructions, ...items.map(messageBlock)];
}

function usage(ex: Exchange): JsonObject {
  return {
    input_tokens: ex.prompt.total,
    input_tokens_details: { cached_tokens: ex.prompt.cacheRead },
    output_tokens: ex.output.total,
    output_tokens_details: { reasoning_tokens: ex.output.thinking },
    total_tokens: ex.prompt.total + ex.output.total,
  };
}

/** The items of the answer, built up front so streamed and non-streamed answers agree. */
function outputItems(ex: Exchange): JsonObject[] {
  const s = ex.scenario;
  const items: JsonObject[] = [];
  if (s.thinkingChunks > 0) {
    const text = THINKING_TOKEN.repeat(s.tokensPerChunk * s.thinkingChunks);
    items.push({ id: randomId('rs_'), type: 'reasoning', summary: [{ type: 'summary_text', text }] });
  }
  if (s.chunks > 0 || s.toolCalls.length === 0) {
    const text = TEXT_TOKEN.repeat(s.tokensPerChunk * s.chunks);
    const part =
      s.finishReason === 'refusal'
        ? { type: 'refusal', refusal: text }
        : { type: 'output_text', annotations: [], logprobs: [], text };
    items.push({ id: randomId('msg_'), type: 'message', status: 'completed', role: 'assistant', content: [part] });
  }
  for (const call of s.toolCalls) {
    items.push({
      id: randomId('fc_'),
      type: 'function_call',
      status: 'completed',
      arguments: call.arguments,
      call_id: randomId('call_'),
      name: call.name,
    });
  }
  return items;
}

/** `length` and `content_filter` end as `incomplete`; everything else completes. */
function ending(ex: Exchange): { status: string; incomplete_details: JsonObject | null } {
  const reason = ex.scenario.finishReason;
  if (reason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (reason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

function responseObject(ex: Exchange, id: string, fields: JsonObject): JsonObject {
  return {
    id,
    object: 'response',
    created_at: ex.created,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: ex.body.instructions ?? null,
    max_output_tokens: ex.body.max_output_tokens ?? null,
    model: ex.model,
    output: [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: ex.body.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: null,
    user: null,
    metadata: {},
    ...fields,
  };
}

/** Splits a text into `n` equal chunks of `size` characters. */
function pieces(text: string, n: number): string[] {
  const size = n > 0 ? text.length / n : 0;
  return Array.from({ length: n }, (_, i) => text.slice(i * size, (i + 1) * size));
}

export const openaiResponses: Route = {
  provider: 'openai',
  failStatus: 500,
  model: openaiModel,
  stream: (body) => body.stream === true,
  prompt: (body, cache) => cache.automatic('openai', promptBlocks(body)),
  headers: openaiHeaders,
  errorBody: openaiError,

  async writeStream(out: Emitter, ex: Exchange) {
    const s = ex.scenario;
    const id = randomId('resp_');
    let seq = 0;
    const event = (type: string, fields: JsonObject) => sseEvent(type, { type, sequence_number: seq++, ...fields });
    const done: JsonObject[] = [];
    let toolIndex = 0;
    out.errorEvents = () => {
      const error = { type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request.', param: null };
      return [
        event('error', { error }),
        event('response.failed', {
          response: responseObject(ex, id, { status: 'failed', error: { code: error.code, message: error.message }, output: done }),
        }),
      ];
    };

    out.send(event('response.created', { response: responseObject(ex, id, {}) }));
    out.send(event('response.in_progress', { response: responseObject(ex, id, {}) }));
    for (const [output_index, item] of outputItems(ex).entries()) {
      const item_id = item.id;
      if (item.type === 'reasoning') {
        const [summary] = item.summary as { type: string; text: string }[];
        const text = summary?.text ?? '';
        out.send(event('response.output_item.added', { output_index, item: { ...item, summary: [] } }));
        const at = { item_id, output_index, summary_index: 0 };
        out.send(event('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } }));
        for (const delta of pieces(text, s.thinkingChunks)) {
          await out.output(event('response.reasoning_summary_text.delta', { ...at, delta }));
        }
        out.send(event('response.reasoning_summary_text.done', { ...at, text }));
        out.send(event('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text } }));
      } else if (item.type === 'message') {
        const [part] = item.content as JsonObject[];
        const refusal = part?.type === 'refusal';
        const text = String((refusal ? part?.refusal : part?.text) ?? '');
        out.send(event('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } }));
        const at = { item_id, output_index, content_index: 0 };
        const empty = refusal ? { type: 'refusal', refusal: '' } : { ...part, text: '' };
        out.send(event('response.content_part.added', { ...at, part: empty }));
        for (const delta of pieces(text, s.chunks)) {
          await out.output(
            refusal
              ? event('response.refusal.delta', { ...at, delta })
              : event('response.output_text.delta', { ...at, delta, logprobs: [] }),
          );
        }
        out.send(
          refusal
            ? event('response.refusal.done', { ...at, refusal: text })
            : event('response.output_text.done', { ...at, text, logprobs: [] }),
        );
        out.send(event('response.content_part.done', { ...at, part }));
      } else {
        // Function-call items follow the scenario's tool calls one to one.
        const call = s.toolCalls[toolIndex++];
        const fragments = call ? argumentFragments(call) : [];
        const added = event('response.output_item.added', {
          output_index,
          item: { ...item, status: 'in_progress', arguments: '' },
        });
        for (const [i, delta] of fragments.entries()) {
          const piece = event('response.function_call_arguments.delta', { item_id, output_index, delta });
          if (i === 0) await out.output(added, piece);
          else await out.output(piece);
        }
        out.send(event('response.function_call_arguments.done', { item_id, output_index, name: item.name, arguments: item.arguments }));
      }
      out.send(event('response.output_item.done', { output_index, item }));
      done.push(item);
    }
    await out.finish();
    const end = ending(ex);
    const type = end.status === 'completed' ? 'response.completed' : 'response.incomplete';
    out.send(event(type, { response: responseObject(ex, id, { ...end, output: done, usage: usage(ex) }) }));
  },

  completeBody(ex) {
    return responseObject(ex, randomId('resp_'), { ...ending(ex), output: outputItems(ex), usage: usage(ex) });
  },
};
