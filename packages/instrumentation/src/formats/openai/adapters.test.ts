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
    expect(openaiChat.streamEvents(chunk([{ index: 0, delta: { content: 'Hi' }, finish_reason: null }]))).toContainEqual({ kind: 'output', text: 'Hi', refusal: undefined, reasoning: undefined });
    expect(openaiChat.streamEvents(chunk([{ index: 0, delta: { refusal: 'No' }, finish_reason: null }]))).toContainEqual({ kind: 'output', text: undefined, refusal: 'No', reasoning: undefined });
    const head = chunk([{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }, finish_reason: null }]);
    expect(openaiChat.streamEvents(head)).toContainEqual({ kind: 'toolCallStart', key: '0:1', name: 'f', id: 'call_a' });
    expect(openaiChat.streamEvents(head).some((e) => e.kind === 'toolCallDelta')).toBe(false);
    const fragment = chunk([{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '{"a"' } }] }, finish_reason: null }]);
    expect(openaiChat.streamEvents(fragment)).toContainEqual({ kind: 'toolCallDelta', key: '0:1', arguments: '{"a"' });
    expect(openaiChat.streamEvents(chunk([{ index: 0, delta: {}, finish_reason: 'length' }]))).toContainEqual({ kind: 'finish', reason: 'length' });
    const usage = chunk([], {
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 5 } },
    });
    expect(openaiChat.streamEvents(usage)).toContainEqual({ kind: 'usage', usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 64, reasoningTokens: 5 } });
  });

  it('reports a mid-stream error payload', () => {
    expect(openaiChat.streamEvents({ event: undefined, data: '{"error":{"message":"boom","type":"server_error","code":null}}' })).toEqual([
      { kind: 'error', type: 'server_error', message: 'boom' },
    ]);
  });

  it('never defaults a missing finish reason', () => {
    expect(openaiChat.bodyEvents({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'a' } }] }).some((e) => e.kind === 'finish')).toBe(false);
  });
});

describe('openaiResponses.streamEvents', () => {
  const ev = (type: string, fields: object) => ({ event: type, data: JSON.stringify({ type, sequence_number: 1, ...fields }) });

  it('treats lifecycle events as metadata and deltas as output', () => {
    expect(openaiResponses.streamEvents(ev('response.created', { response: { id: 'resp_1', model: 'gpt-5', status: 'in_progress' } }))).toEqual([{ kind: 'responseMeta', id: 'resp_1', model: 'gpt-5' }]);
    expect(openaiResponses.streamEvents(ev('response.content_part.added', { part: { type: 'output_text', text: '' } }))).toEqual([]);
    expect(openaiResponses.streamEvents(ev('response.output_text.delta', { delta: '' }))).toEqual([]);
    expect(openaiResponses.streamEvents(ev('response.output_text.delta', { delta: 'Hi' }))).toEqual([{ kind: 'output', text: 'Hi' }]);
    expect(openaiResponses.streamEvents(ev('response.output_item.added', { item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' } }))).toEqual([
      { kind: 'toolCallStart', key: 'fc_1', name: 'f', id: 'call_1' },
    ]);
    expect(openaiResponses.streamEvents(ev('response.function_call_arguments.delta', { item_id: 'fc_1', delta: '{}' }))).toEqual([{ kind: 'toolCallDelta', key: 'fc_1', arguments: '{}' }]);
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
