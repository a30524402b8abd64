/** The wire routes of the registered formats (formats/index.ts). */
import { describe, expect, it } from 'vitest';
import { wireRoute } from './index.ts';

describe('wireRoute', () => {
  it('recognises the LLM routes by method and path, at any prefix', () => {
    const route = (method: string, path: string) => wireRoute(method, path)?.api.method;
    expect(route('POST', '/v1/chat/completions')).toBe('chat.completions.create');
    expect(route('POST', '/openai/deployments/gpt-4o/chat/completions')).toBe('chat.completions.create');
    expect(route('POST', '/api/v1/chat/completions/')).toBe('chat.completions.create');
    expect(route('POST', '/v1/responses')).toBe('responses.create');
    expect(route('POST', '/v1/messages')).toBe('messages.create');
    expect(route('POST', '/v1beta/models/gemini-2.5-flash:streamGenerateContent')).toBe('models.generateContentStream');
    expect(route('POST', '/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:generateContent')).toBe('models.generateContent');
    for (const [method, path] of [
      ['GET', '/v1/chat/completions'],
      ['POST', '/v1/traces'],
      ['POST', '/v1/embeddings'],
      ['POST', '/v1/messages/count_tokens'],
      ['POST', '/v1/messages/batches'],
      ['POST', '/v1/responses/resp_1/cancel'],
      ['POST', '/v1/models/m:countTokens'],
    ]) {
      expect(route(method!, path!), `${method} ${path}`).toBeUndefined();
    }
  });

  it('accepts only bodies of the route’s request shape', () => {
    const params = (path: string, body: unknown) => wireRoute('POST', path)!.params(body);
    expect(params('/v1/chat/completions', { model: 'm', messages: [] })).toBeDefined();
    expect(params('/v1/chat/completions', { messages: [] })).toBeDefined(); // Azure deployments may omit the model
    expect(params('/v1/chat/completions', { model: 'm', input: 'hi' })).toBeUndefined();
    expect(params('/v1/responses', { model: 'm', input: 'hi' })).toBeDefined();
    expect(params('/v1/responses', { model: 'm', prompt: { id: 'p' } })).toBeDefined();
    expect(params('/v1/responses', { id: 'x' })).toBeUndefined();
    expect(params('/v1/messages', { model: 'm', max_tokens: 1, messages: [] })).toBeDefined();
    expect(params('/threads/1/messages', { role: 'user', content: 'hi' })).toBeUndefined();
    expect(params('/v1beta/models/g:generateContent', { contents: [], systemInstruction: { parts: [{ text: 's' }] }, tools: [], generationConfig: { temperature: 0 } })).toEqual({
      model: 'g',
      contents: [],
      config: { temperature: 0, systemInstruction: { parts: [{ text: 's' }] }, tools: [] },
    });
    expect(params('/v1beta/models/g:generateContent', { prompt: 'x' })).toBeUndefined();
    for (const body of [undefined, null, 'x', [], 42]) expect(params('/v1/chat/completions', body)).toBeUndefined();
  });
});
