import { describe, expect, it } from 'vitest';
import { anthropicMessages } from './adapter.ts';

const sse = (type: string, fields: object = {}) => ({ event: type, data: JSON.stringify({ type, ...fields }) });
const events = (type: string, fields: object = {}) => anthropicMessages.streamEvents(sse(type, fields));

describe('anthropicMessages.streamEvents', () => {
  it('counts cached tokens into the input total once, from the cumulative usage objects', () => {
    const usage = { input_tokens: 10, cache_creation_input_tokens: 300, cache_read_input_tokens: 2000, output_tokens: 1 };
    // message_start's output count is a placeholder: left out until message_delta gives it.
    expect(events('message_start', { message: { id: 'msg_1', model: 'claude-x', usage } })).toEqual([
      { kind: 'responseMeta', id: 'msg_1', model: 'claude-x' },
      { kind: 'usage', usage: { inputTokens: 2310, outputTokens: undefined, cacheReadTokens: 2000, cacheWriteTokens: 300, reasoningTokens: undefined } },
    ]);
    // message_delta repeats the totals: the same input total, the final output count.
    expect(events('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { ...usage, output_tokens: 42 } })).toEqual([
      { kind: 'finish', reason: 'end_turn' },
      { kind: 'usage', usage: { inputTokens: 2310, outputTokens: 42, cacheReadTokens: 2000, cacheWriteTokens: 300, reasoningTokens: undefined } },
    ]);
    // A delta without the cache figures leaves the input total alone (it would lose the cached part).
    expect(events('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 10, cache_read_input_tokens: null, output_tokens: 9 } })).toContainEqual({
      kind: 'usage',
      usage: { inputTokens: undefined, outputTokens: 9, cacheReadTokens: undefined, cacheWriteTokens: undefined, reasoningTokens: undefined },
    });
    // A message without cache fields at all: its input is all of it, and no cache figure is made up.
    expect(events('message_start', { message: { id: 'msg_3', model: 'claude-x', usage: { input_tokens: 12, output_tokens: 1 } } })).toContainEqual({
      kind: 'usage',
      usage: { inputTokens: 12, outputTokens: undefined, cacheReadTokens: undefined, cacheWriteTokens: undefined, reasoningTokens: undefined },
    });
    // A delta with only the output count leaves the input figures alone.
    expect(events('message_delta', { delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 7 } })).toContainEqual({
      kind: 'usage',
      usage: { inputTokens: undefined, outputTokens: 7, cacheReadTokens: undefined, cacheWriteTokens: undefined, reasoningTokens: undefined },
    });
  });

  it('reports no token count that is not one (negative, fractional, beyond 2^53, text), and no total made of one', () => {
    const usageOf = (usage: object) => events('message_start', { message: { id: 'msg_bad', model: 'claude-x', usage } }).find((e) => e.kind === 'usage');
    expect(usageOf({ input_tokens: -5, output_tokens: 2.5, cache_read_input_tokens: 2 ** 53 + 2, cache_creation_input_tokens: 0 })).toEqual({
      kind: 'usage',
      usage: { inputTokens: undefined, outputTokens: undefined, cacheReadTokens: undefined, cacheWriteTokens: 0, reasoningTokens: undefined },
    });
    // A cache figure sent but broken: the input total it is a part of is not known.
    expect(usageOf({ input_tokens: 5, cache_read_input_tokens: -3, cache_creation_input_tokens: '7', output_tokens: 1 })).toEqual({
      kind: 'usage',
      usage: { inputTokens: undefined, outputTokens: undefined, cacheReadTokens: undefined, cacheWriteTokens: undefined, reasoningTokens: undefined },
    });
  });

  it('an event whose data is not JSON is an error, as the SDK throws on it — but not a ping, which the SDK skips unread', () => {
    expect(anthropicMessages.streamEvents({ event: 'content_block_delta', data: '{"type":"content_block_delta","delta":{' })).toEqual([
      { kind: 'error', type: 'invalid_sse_event', message: 'a server-sent event whose data is not JSON' },
    ]);
    expect(anthropicMessages.streamEvents({ event: 'ping', data: 'keep-alive' })).toEqual([]);
    expect(anthropicMessages.streamEvents({ event: 'gateway_keepalive', data: 'keep-alive' })).toEqual([]);
    // An error event the SDK throws as an APIError whatever its data.
    expect(anthropicMessages.streamEvents({ event: 'error', data: 'Overloaded' })).toEqual([{ kind: 'error', type: 'error', message: 'Overloaded' }]);
  });

  it('does not count pings, empty starts, signatures or block stops as output', () => {
    expect(events('ping')).toEqual([]);
    expect(events('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })).toEqual([]);
    expect(events('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } })).toEqual([]);
    expect(events('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'c2ln' } })).toEqual([]);
    expect(events('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } })).toEqual([]);
    expect(events('content_block_stop', { index: 0 })).toEqual([]);
    expect(events('message_stop')).toEqual([]);
  });

  it('decodes text, thinking, tool_use blocks and error events', () => {
    expect(events('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } })).toEqual([{ kind: 'output', text: 'Hi' }]);
    expect(events('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } })).toEqual([{ kind: 'output', reasoning: 'hmm' }]);
    expect(events('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} } })).toEqual([{ kind: 'toolCallStart', key: '2', name: 'f', id: 'toolu_1', type: 'function' }]);
    expect(events('content_block_start', { index: 3, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } })).toEqual([
      { kind: 'toolCallStart', key: '3', name: 'web_search', id: 'srvtoolu_1', type: 'extension' },
    ]);
    expect(events('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"a"' } })).toEqual([{ kind: 'toolCallDelta', key: '2', arguments: '{"a"' }]);
    expect(events('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })).toEqual([{ kind: 'error', type: 'overloaded_error', message: 'Overloaded' }]);
  });
});

describe('anthropicMessages.bodyEvents', () => {
  it('decodes a complete message', () => {
    const body = {
      id: 'msg_2',
      type: 'message',
      model: 'claude-x',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 's' },
        { type: 'text', text: 'Hello' },
        { type: 'tool_use', id: 'toolu_2', name: 'g', input: { q: 1 } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 9 },
    };
    expect(anthropicMessages.bodyEvents(body)).toEqual([
      { kind: 'responseMeta', id: 'msg_2', model: 'claude-x' },
      { kind: 'output', text: undefined, reasoning: 'hmm' },
      { kind: 'output', text: 'Hello', reasoning: undefined },
      { kind: 'toolCallStart', key: '2', name: 'g', id: 'toolu_2', type: 'function' },
      { kind: 'toolCallDelta', key: '2', arguments: '{"q":1}' },
      { kind: 'usage', usage: { inputTokens: 5, outputTokens: 9, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: undefined } },
      { kind: 'finish', reason: 'tool_use' },
    ]);
  });
});
