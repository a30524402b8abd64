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
      { kind: 'output', reasoning: 'hmm' },
      { kind: 'output', text: 'Hi' },
      { kind: 'toolCallStart', key: 'call_1', name: 'f', id: 'call_1' },
      { kind: 'toolCallDelta', key: 'call_1', arguments: '{"a":1}' },
      { kind: 'finish', reason: 'MAX_TOKENS' },
    ]);
    expect(geminiGenerateContent.bodyEvents(body)).toEqual(chunk(body));
  });

  it('reports an error payload in the stream', () => {
    expect(chunk({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })).toEqual([
      { kind: 'error', type: 'UNAVAILABLE', message: 'The model is overloaded.' },
    ]);
  });
});
