import { describe, expect, it } from 'vitest';
import { openaiChat, openaiResponses } from './adapters.ts';

const chunk = (choices: unknown[], extra: object = {}) => ({ data: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4o-2024-08-06', choices, ...extra }), event: undefined });

describe('openaiChat.streamEvents', () => {
  it('does not count the role-only first chunk or empty deltas as output', () => {
    const kinds = (c: ReturnType<typeof chunk>) => openaiChat.streamEvents(c).map((e) => e.kind);
    expect(kinds(chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, finish_reason: null }]))).toEqual(['responseMeta']);
    expect(kinds(chunk([{ index: 0, delta: {}, finish_reason: null }]))).toEqual(['responseMeta']);
    expect(openaiChat.streamEvents({ event: undefined, data: '[DONE]' })).toEqual([]);
  });

  it('decodes text, refusals, tool-call fragments, finish reasons and usage', () => {
    expect(openaiChat.streamEvents(chunk([{ index: 0, delta: { content: 'Hi' }, finish_reason: null }]))).toContainEqual({ kind: 'output', text: 'Hi', refusal: undefined, reasoning: undefined, choice: 0 });
    expect(openaiChat.streamEvents(chunk([{ index: 0, delta: { refusal: 'No' }, finish_reason: null }]))).toContainEqual({ kind: 'output', text: undefined, refusal: 'No', reasoning: undefined, choice: 0 });
    const head = chunk([{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }, finish_reason: null }]);
    expect(openaiChat.streamEvents(head)).toContainEqual({ kind: 'toolCallStart', key: '0:1', name: 'f', id: 'call_a', type: 'function', choice: 0 });
    expect(openaiChat.streamEvents(head).some((e) => e.kind === 'toolCallDelta')).toBe(false);
    const fragment = chunk([{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '{"a"' } }] }, finish_reason: null }]);
    expect(openaiChat.streamEvents(fragment)).toContainEqual({ kind: 'toolCallDelta', key: '0:1', arguments: '{"a"' });
    expect(openaiChat.streamEvents(chunk([{ index: 0, delta: {}, finish_reason: 'length' }]))).toContainEqual({ kind: 'finish', reason: 'length', choice: 0 });
    const usage = chunk([], {
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 5 } },
    });
    expect(openaiChat.streamEvents(usage)).toContainEqual({ kind: 'usage', usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 64, reasoningTokens: 5 } });
  });

  it('reports a mid-stream error payload', () => {
    expect(openaiChat.streamEvents({ event: undefined, data: '{"error":{"message":"boom","type":"server_error","code":null}}' })).toEqual([
      { kind: 'error', type: 'server_error', message: 'boom' },
    ]);
    // A gateway relaying an upstream failure: the upstream status as a numeric code.
    expect(openaiChat.streamEvents({ event: undefined, data: '{"error":{"message":"Provider returned error","code":502}}' })).toEqual([
      { kind: 'error', type: '502', message: 'Provider returned error' },
    ]);
  });

  it('keeps each choice apart, and reads custom tool calls', () => {
    const body = {
      id: 'x',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'grep', input: 'foo' } }] }, finish_reason: 'tool_calls' },
      ],
    };
    expect(openaiChat.bodyEvents(body)).toEqual([
      { kind: 'responseMeta', id: 'x', model: undefined },
      { kind: 'output', text: 'a', refusal: undefined, reasoning: undefined, choice: 0 },
      { kind: 'finish', reason: 'stop', choice: 0 },
      { kind: 'toolCallStart', key: '1:0', name: 'grep', id: 'call_c', type: 'function', choice: 1 },
      { kind: 'toolCallDelta', key: '1:0', arguments: 'foo' },
      { kind: 'finish', reason: 'tool_calls', choice: 1 },
    ]);
  });

  it('reports no token count that is not one (negative, fractional, beyond 2^53)', () => {
    const usage = { prompt_tokens: -5, completion_tokens: 2.5, total_tokens: 9, prompt_tokens_details: { cached_tokens: 2 ** 53 }, completion_tokens_details: { reasoning_tokens: 4 } };
    expect(openaiChat.streamEvents(chunk([], { usage }))).toContainEqual({
      kind: 'usage',
      usage: { inputTokens: undefined, outputTokens: undefined, cacheReadTokens: undefined, reasoningTokens: 4 },
    });
  });

  it('never defaults a missing finish reason', () => {
    expect(openaiChat.bodyEvents({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'a' } }] }).some((e) => e.kind === 'finish')).toBe(false);
  });
});

describe('openaiResponses.streamEvents', () => {
  const ev = (type: string, fields: object) => ({ event: type, data: JSON.stringify({ type, sequence_number: 1, ...fields }) });

  it('takes a `[DONE]` line (gateways send one on Responses streams) as the end, not as an event that is not JSON', () => {
    expect(openaiResponses.streamEvents({ event: undefined, data: '[DONE]' })).toEqual([]);
    expect(openaiResponses.streamEvents({ event: 'response.output_text.delta', data: '{"type":' })).toEqual([
      { kind: 'error', type: 'invalid_sse_event', message: 'a server-sent event whose data is not JSON' },
    ]);
  });

  it('treats lifecycle events as metadata and deltas as output', () => {
    expect(openaiResponses.streamEvents(ev('response.created', { response: { id: 'resp_1', model: 'gpt-5', status: 'in_progress' } }))).toEqual([{ kind: 'responseMeta', id: 'resp_1', model: 'gpt-5' }]);
    expect(openaiResponses.streamEvents(ev('response.content_part.added', { part: { type: 'output_text', text: '' } }))).toEqual([]);
    expect(openaiResponses.streamEvents(ev('response.output_text.delta', { delta: '' }))).toEqual([]);
    expect(openaiResponses.streamEvents(ev('response.output_text.delta', { delta: 'Hi' }))).toEqual([{ kind: 'output', text: 'Hi' }]);
    expect(openaiResponses.streamEvents(ev('response.output_item.added', { item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' } }))).toEqual([
      { kind: 'toolCallStart', key: 'fc_1', name: 'f', id: 'call_1', type: 'function' },
    ]);
    expect(openaiResponses.streamEvents(ev('response.function_call_arguments.delta', { item_id: 'fc_1', delta: '{}' }))).toEqual([{ kind: 'toolCallDelta', key: 'fc_1', arguments: '{}' }]);
  });

  it('counts every kind of tool call: client-side as function, server-side as extension', () => {
    const added = (item: object) => openaiResponses.streamEvents(ev('response.output_item.added', { item }));
    expect(added({ type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_c', name: 'grep', input: '' })).toEqual([{ kind: 'toolCallStart', key: 'ctc_1', name: 'grep', id: 'call_c', type: 'function' }]);
    expect(openaiResponses.streamEvents(ev('response.custom_tool_call_input.delta', { item_id: 'ctc_1', delta: 'foo' }))).toEqual([{ kind: 'toolCallDelta', key: 'ctc_1', arguments: 'foo' }]);
    expect(added({ type: 'local_shell_call', id: 'lsh_1', call_id: 'call_l', action: { type: 'exec', command: ['ls'] }, status: 'in_progress' })).toEqual([
      { kind: 'toolCallStart', key: 'lsh_1', name: 'local_shell', id: 'call_l', type: 'function' },
      { kind: 'toolCallDelta', key: 'lsh_1', arguments: '{"type":"exec","command":["ls"]}' },
    ]);
    expect(added({ type: 'computer_call', id: 'cu_1', call_id: 'call_u', status: 'in_progress' })).toEqual([{ kind: 'toolCallStart', key: 'cu_1', name: 'computer', id: 'call_u', type: 'function' }]);
    expect(added({ type: 'web_search_call', id: 'ws_1', status: 'in_progress' })).toEqual([{ kind: 'toolCallStart', key: 'ws_1', name: 'web_search', id: 'ws_1', type: 'extension' }]);
    expect(added({ type: 'mcp_call', id: 'mcp_1', name: 'roll', server_label: 'dice', arguments: '' })).toEqual([{ kind: 'toolCallStart', key: 'mcp_1', name: 'roll', id: 'mcp_1', type: 'extension' }]);
    expect(added({ type: 'message', id: 'msg_1', role: 'assistant', content: [] })).toEqual([]);
    // A server-side tool's arguments come whole with its done item, which is not output.
    expect(openaiResponses.streamEvents(ev('response.output_item.done', { item: { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } } }))).toEqual([
      { kind: 'toolCallArguments', key: 'ws_1', arguments: '{"type":"search","query":"q"}' },
    ]);
    const body = { id: 'resp_2', object: 'response', status: 'completed', output: [{ type: 'image_generation_call', id: 'ig_1', status: 'completed', result: 'aGVsbG8=' }, { type: 'file_search_call', id: 'fs_1', queries: ['a'], status: 'completed' }] };
    expect(openaiResponses.bodyEvents(body).filter((e) => e.kind === 'toolCallStart' || e.kind === 'toolCallDelta')).toEqual([
      { kind: 'toolCallStart', key: 'ig_1', name: 'image_generation', id: 'ig_1', type: 'extension' },
      { kind: 'toolCallStart', key: 'fs_1', name: 'file_search', id: 'fs_1', type: 'extension' },
      { kind: 'toolCallDelta', key: 'fs_1', arguments: '["a"]' },
    ]);
  });

  it('judges completion by response.completed, with or without a status', () => {
    expect(openaiResponses.streamEvents(ev('response.completed', { response: { id: 'resp_1', model: 'gpt-5' } }))).toEqual([{ kind: 'completed' }, { kind: 'responseMeta', id: 'resp_1', model: 'gpt-5' }]);
    expect(openaiResponses.streamEvents(ev('response.completed', { response: { id: 'resp_1', status: 'completed' } }))).toContainEqual({ kind: 'finish', reason: 'completed' });
  });

  it('takes finish and usage from the terminal event, and errors from error / response.failed', () => {
    const completed = openaiResponses.streamEvents(
      ev('response.incomplete', {
        response: { id: 'resp_1', model: 'gpt-5', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 1 } } },
      }),
    );
    expect(completed).toContainEqual({ kind: 'finish', reason: 'max_output_tokens' });
    expect(completed).toContainEqual({ kind: 'usage', usage: { inputTokens: 10, outputTokens: 3, cacheReadTokens: 0, reasoningTokens: 1 } });
    expect(openaiResponses.streamEvents(ev('error', { error: { type: 'server_error', code: 'server_error', message: 'x', param: null } }))).toEqual([{ kind: 'error', type: 'server_error', message: 'x' }]);
    expect(openaiResponses.streamEvents(ev('response.failed', { response: { id: 'r', status: 'failed', error: { code: 'rate_limit_exceeded', message: 'y' } } }))).toContainEqual({ kind: 'error', type: 'rate_limit_exceeded', message: 'y' });
  });
});

describe('requestInfo', () => {
  it('reads model, stream and the server from the client base URL', () => {
    expect(openaiChat.requestInfo({ model: 'gpt-4o', stream: true, messages: [] }, 'https://api.openai.com/v1')).toMatchObject({
      providerName: 'openai',
      operation: 'chat',
      model: 'gpt-4o',
      stream: true,
      serverAddress: 'api.openai.com',
      serverPort: 443,
    });
    expect(openaiResponses.requestInfo({ model: 'gpt-5', input: 'x' }, 'http://127.0.0.1:4010/v1')).toMatchObject({ stream: false, serverPort: 4010 });
  });
});
