import { describe, expect, it } from 'vitest';
import { geminiGenerateContent, geminiStreamGenerateContent } from './adapters.ts';

const chunk = (body: object) => geminiStreamGenerateContent.streamEvents({ event: undefined, data: JSON.stringify(body) });

describe('gemini adapters', () => {
  it('know the operation and streaming from the method, not the parameters', () => {
    const params = { model: 'gemini-2.5-flash', contents: 'hi' };
    expect(geminiStreamGenerateContent.requestInfo(params, 'https://generativelanguage.googleapis.com')).toMatchObject({
      providerName: 'gcp.gemini',
      operation: 'generate_content',
      model: 'gemini-2.5-flash',
      stream: true,
      serverAddress: 'generativelanguage.googleapis.com',
      serverPort: 443,
    });
    expect(geminiGenerateContent.requestInfo(params, undefined).stream).toBe(false);
  });

  it('reads usageMetadata: cached tokens inside the prompt count, thoughts added to the output', () => {
    const usageMetadata = { promptTokenCount: 2100, cachedContentTokenCount: 2048, candidatesTokenCount: 30, thoughtsTokenCount: 12, totalTokenCount: 2142 };
    expect(chunk({ candidates: [], usageMetadata })).toContainEqual({
      kind: 'usage',
      usage: { inputTokens: 2100, outputTokens: 42, cacheReadTokens: 2048, reasoningTokens: 12 },
    });
  });

  it('decodes text, thought parts, function calls and finish reasons; an empty part is not output', () => {
    const body = {
      candidates: [
        {
          index: 0,
          content: { role: 'model', parts: [{ text: 'hmm', thought: true }, { text: 'Hi' }, { text: '' }, { functionCall: { id: 'call_1', name: 'f', args: { a: 1 } } }] },
          finishReason: 'MAX_TOKENS',
        },
      ],
      responseId: 'r1',
      modelVersion: 'gemini-2.5-flash-001',
    };
    expect(chunk(body)).toEqual([
      { kind: 'responseMeta', id: 'r1', model: 'gemini-2.5-flash-001' },
      { kind: 'output', reasoning: 'hmm', choice: 0 },
      { kind: 'output', text: 'Hi', choice: 0 },
      { kind: 'toolCallStart', key: 'call_1', name: 'f', id: 'call_1', type: 'function', choice: 0 },
      { kind: 'toolCallDelta', key: 'call_1', arguments: '{"a":1}' },
      { kind: 'finish', reason: 'MAX_TOKENS', choice: 0 },
    ]);
    expect(geminiGenerateContent.bodyEvents(body)).toEqual(chunk(body));
  });

  it('reports no token count that is not one, and no output total made of one', () => {
    const usageOf = (usageMetadata: object) => chunk({ candidates: [], usageMetadata }).find((e) => e.kind === 'usage');
    expect(usageOf({ promptTokenCount: 5.5, candidatesTokenCount: 2, thoughtsTokenCount: -4, cachedContentTokenCount: 1e400 })).toEqual({
      kind: 'usage',
      usage: { inputTokens: undefined, outputTokens: undefined, cacheReadTokens: undefined, reasoningTokens: undefined },
    });
    // A prompt count without a cache figure reads 0 cached; with a broken one, unknown.
    expect(usageOf({ promptTokenCount: 5, candidatesTokenCount: 2 })).toMatchObject({ usage: { inputTokens: 5, outputTokens: 2, cacheReadTokens: 0 } });
    expect(usageOf({ promptTokenCount: 5, candidatesTokenCount: 2, cachedContentTokenCount: -1 })).toMatchObject({ usage: { inputTokens: 5, outputTokens: 2, cacheReadTokens: undefined } });
  });

  it('reports reasoning tokens only when thoughtsTokenCount was sent', () => {
    expect(chunk({ candidates: [], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 13 } })).toContainEqual({
      kind: 'usage',
      usage: { inputTokens: 10, outputTokens: 3, cacheReadTokens: 0, reasoningTokens: undefined },
    });
  });

  it('joins a function call streamed in parts (Vertex partialArgs / willContinue) into one tool call', () => {
    const decode = geminiStreamGenerateContent.streamDecoder!();
    const part = (functionCall: object, extra: object = {}) =>
      decode({ event: undefined, data: JSON.stringify({ candidates: [{ index: 0, content: { role: 'model', parts: [{ functionCall }] }, ...extra }] }) });
    const events = [
      ...part({ name: 'get_weather', willContinue: true }),
      ...part({ partialArgs: [{ jsonPath: '$.location', stringValue: 'Bos', willContinue: true }], willContinue: true }),
      ...part({ partialArgs: [{ jsonPath: '$.location', stringValue: 'ton' }, { jsonPath: '$.days[0]', numberValue: 2 }], willContinue: true }),
      ...part({ partialArgs: [{ jsonPath: '$["unit"]', stringValue: 'celsius' }] }, { finishReason: 'STOP' }),
    ];
    expect(events.filter((e) => e.kind === 'toolCallStart')).toEqual([{ kind: 'toolCallStart', key: '0:#0', name: 'get_weather', id: undefined, type: 'function', choice: 0 }]);
    const deltas = events.filter((e) => e.kind === 'toolCallDelta');
    expect(deltas.every((e) => e.key === '0:#0')).toBe(true);
    expect(deltas.map((e) => e.arguments).join('')).toBe('{"location":"Boston","days":[2],"unit":"celsius"}');
    // A later whole call of the same function is a call of its own.
    expect(part({ name: 'get_weather', args: { location: 'Paris' } })).toContainEqual({ kind: 'toolCallStart', key: '0:#1', name: 'get_weather', id: undefined, type: 'function', choice: 0 });
  });

  it('counts server-side tool parts (code execution, toolCall) as extension tool calls', () => {
    const body = {
      candidates: [{ index: 0, content: { role: 'model', parts: [{ executableCode: { language: 'PYTHON', code: 'print(1)' } }, { toolCall: { id: 't1', toolType: 'GOOGLE_SEARCH_WEB', args: { q: 'x' } } }] } }],
    };
    expect(geminiGenerateContent.bodyEvents(body)).toEqual([
      { kind: 'toolCallStart', key: '0:0', name: 'code_execution', id: undefined, type: 'extension', choice: 0 },
      { kind: 'toolCallDelta', key: '0:0', arguments: 'print(1)' },
      { kind: 'toolCallStart', key: '0:1', name: 'GOOGLE_SEARCH_WEB', id: 't1', type: 'extension', choice: 0 },
      { kind: 'toolCallDelta', key: '0:1', arguments: '{"q":"x"}' },
    ]);
  });

  it('reports an error payload in the stream', () => {
    expect(chunk({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })).toEqual([
      { kind: 'error', type: 'UNAVAILABLE', message: 'The model is overloaded.' },
    ]);
  });
});
