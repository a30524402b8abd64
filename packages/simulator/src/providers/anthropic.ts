import { randomBytes } from 'node:crypto';
import type { PromptBlock } from '../cache.ts';
import { sseEvent, type Emitter } from '../emitter.ts';
import { randomId } from '../headers.ts';
import { BadRequest, type Exchange, type JsonObject, type Route } from '../route.ts';
import { argumentFragments } from '../scenario.ts';
import { contentTokens, jsonTokens, MESSAGE_OVERHEAD_TOKENS, TEXT_TOKEN, THINKING_TOKEN, withoutCacheControl } from '../tokens.ts';
import type { FinishReason } from '../types.ts';

const STOP_REASON: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  // Anthropic has no content filter finish; a classifier stop surfaces as `refusal`.
  content_filter: 'refusal',
  refusal: 'refusal',
};

const MAX_BREAKPOINTS = 4;

function breakpoint(block: unknown): '5m' | '1h' | undefined {
  if (!block || typeof block !== 'object' || !('cache_control' in block)) return undefined;
  const control = block.cache_control as { ttl?: string } | null;
  if (!control) return undefined;
  return control.ttl === '1h' ? '1h' : '5m';
}

/** Tools, system blocks and message content blocks, each a cacheable block in that order. */
function promptBlocks(body: JsonObject): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  const add = (content: unknown, tokens: number, marker?: unknown) =>
    blocks.push({ content: withoutCacheControl(content), tokens, breakpoint: breakpoint(marker ?? content) });
  for (const tool of Array.isArray(body.tools) ? body.tools : []) add(tool, jsonTokens(withoutCacheControl(tool)));
  if (typeof body.system === 'string') add({ system: body.system }, contentTokens(body.system));
  else if (Array.isArray(body.system)) for (const part of body.system) add(part, contentTokens([part]));
  for (const message of Array.isArray(body.messages) ? (body.messages as JsonObject[]) : []) {
    const parts = typeof message.content === 'string' ? [message.content] : Array.isArray(message.content) ? message.content : [];
    parts.forEach((part: unknown, i) => {
      const overhead = i === 0 ? MESSAGE_OVERHEAD_TOKENS : 0;
      add({ role: message.role, part }, overhead + contentTokens([part]), part);
    });
  }
  return blocks;
}

function usage(ex: Exchange, outputTokens: number): JsonObject {
  const { total, cacheRead, cacheWrite5m, cacheWrite1h } = ex.prompt;
  return {
    input_tokens: total - cacheRead - cacheWrite5m - cacheWrite1h,
    cache_creation_input_tokens: cacheWrite5m + cacheWrite1h,
    cache_read_input_tokens: cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: cacheWrite5m, ephemeral_1h_input_tokens: cacheWrite1h },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

interface Block {
  start: JsonObject;
  /** Deltas, one output chunk each. */
  deltas: JsonObject[];
  final: JsonObject;
}

function contentBlocks(ex: Exchange): Block[] {
  const s = ex.scenario;
  const blocks: Block[] = [];
  if (s.thinkingChunks > 0) {
    const piece = THINKING_TOKEN.repeat(s.tokensPerChunk);
    const signature = randomBytes(48).toString('base64');
    blocks.push({
      start: { type: 'thinking', thinking: '', signature: '' },
      deltas: [
        ...Array.from({ length: s.thinkingChunks }, () => ({ type: 'thinking_delta', thinking: piece })),
        { type: 'signature_delta', signature },
      ],
      final: { type: 'thinking', thinking: piece.repeat(s.thinkingChunks), signature },
    });
  }
  if (s.chunks > 0 || s.toolCalls.length === 0) {
    const piece = TEXT_TOKEN.repeat(s.tokensPerChunk);
    blocks.push({
      start: { type: 'text', text: '' },
      deltas: Array.from({ length: s.chunks }, () => ({ type: 'text_delta', text: piece })),
      final: { type: 'text', text: piece.repeat(s.chunks) },
    });
  }
  for (const call of s.toolCalls) {
    const id = randomId('toolu_01');
    blocks.push({
      start: { type: 'tool_use', id, name: call.name, input: {} },
      deltas: argumentFragments(call).map((partial_json) => ({ type: 'input_json_delta', partial_json })),
      final: { type: 'tool_use', id, name: call.name, input: JSON.parse(call.arguments || '{}') },
    });
  }
  return blocks;
}

function message(ex: Exchange, id: string, fields: JsonObject): JsonObject {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: ex.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    ...fields,
  };
}

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request.'],
  404: ['not_found_error', 'Not found.'],
  429: ['rate_limit_error', 'Number of requests has exceeded your rate limit.'],
  500: ['api_error', 'Internal server error'],
  503: ['api_error', 'Service unavailable'],
  529: ['overloaded_error', 'Overloaded'],
};

function errorBody(status: number, message?: string): JsonObject {
  const [type, text] = ERROR_TYPES[status] ?? ['api_error', 'Internal server error'];
  return { type: 'error', error: { type, message: message ?? text } };
}

export const anthropicMessages: Route = {
  provider: 'anthropic',
  failStatus: 529,
  model: (body) => String(body.model ?? ''),
  stream: (body) => body.stream === true,
  prompt(body, cache) {
    const blocks = promptBlocks(body);
    const marked = blocks.filter((b) => b.breakpoint).length;
    if (marked > MAX_BREAKPOINTS) {
      throw new BadRequest(`A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${marked}.`);
    }
    return cache.explicit(blocks);
  },
  headers: (requestId) => ({ 'request-id': requestId }),
  errorBody,

  async writeStream(out: Emitter, ex: Exchange) {
    const s = ex.scenario;
    const event = (type: string, fields: JsonObject = {}) => sseEvent(type, { type, ...fields });
    const ping = s.pings ? event('ping') : undefined;
    out.errorEvents = () => [event('error', errorBody(529))];
    const id = randomId('msg_01');
    out.send(event('message_start', { message: message(ex, id, { usage: usage(ex, 1) }) }));
    const blocks = contentBlocks(ex);
    for (const [index, block] of blocks.entries()) {
      const start = event('content_block_start', { index, content_block: block.start });
      const deltas = block.deltas.map((delta) => ({ delta, write: event('content_block_delta', { index, delta }) }));
      // A tool_use start names the tool, which is output; text and thinking starts are empty.
      const isTool = block.start.type === 'tool_use';
      if (!isTool) out.send(start);
      if (index === 0) await out.prefill(ping);
      if (isTool) {
        const [first, ...rest] = deltas;
        const opening = event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
        await out.output(start, opening, ...(first ? [first.write] : []));
        for (const { write } of rest) await out.output(write);
      } else {
        for (const { delta, write } of deltas) {
          if (delta.type === 'signature_delta') out.send(write);
          else await out.output(write);
        }
      }
      out.send(event('content_block_stop', { index }));
    }
    await out.finish();
    out.send(
      event('message_delta', {
        delta: { stop_reason: STOP_REASON[s.finishReason], stop_sequence: null },
        usage: usage(ex, ex.output.total),
      }),
    );
    out.send(event('message_stop'));
  },

  completeBody(ex) {
    return message(ex, randomId('msg_01'), {
      content: contentBlocks(ex).map((b) => b.final),
      stop_reason: STOP_REASON[ex.scenario.finishReason],
      usage: usage(ex, ex.output.total),
    });
  },
};
