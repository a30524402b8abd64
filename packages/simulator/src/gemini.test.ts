import { ApiError, FinishReason, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';
import type { Scenario } from './types.ts';

let sim: Simulator;
let gemini: GoogleGenAI;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  gemini = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: sim.geminiBaseURL } });
});
afterAll(() => sim.close());

// One content with 'hello there': 3 tokens + 4 overhead.
const PROMPT_TOKENS = 7;

function request(scenario: Scenario, model = 'gemini-2.5-flash') {
  return { model, contents: 'hello there', config: { httpOptions: { headers: scenarioHeaders(scenario) } } };
}

describe('streamGenerateContent', () => {
  it('streams text with a running usageMetadata and the finish reason on the last chunk', async () => {
    const chunks = [];
    for await (const chunk of await gemini.models.generateContentStream(request({ chunks: 3, tokensPerChunk: 2 }))) chunks.push(chunk);
    expect(chunks.map((c) => c.text)).toEqual(['tok tok ', 'tok tok ', 'tok tok ']);
    expect(chunks.map((c) => c.usageMetadata?.candidatesTokenCount)).toEqual([2, 4, 6]);
    expect(chunks.at(-1)?.usageMetadata).toMatchObject({ promptTokenCount: PROMPT_TOKENS, totalTokenCount: PROMPT_TOKENS + 6 });
    expect(chunks.map((c) => c.candidates?.[0]?.finishReason)).toEqual([undefined, undefined, FinishReason.STOP]);
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    expect(chunks[0]?.modelVersion).toBe('gemini-2.5-flash');
  });

  it('streams thought parts and function calls', async () => {
    const chunks = [];
    const scenario = { thinkingChunks: 2, chunks: 1, toolCalls: [{ name: 'lookup', arguments: '{"q":"prism"}' }] };
    for await (const chunk of await gemini.models.generateContentStream(request(scenario))) chunks.push(chunk);
    const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
    expect(parts.filter((p) => p.thought).map((p) => p.text)).toEqual(['hmm ', 'hmm ']);
    expect(chunks.at(-1)?.functionCalls?.[0]).toMatchObject({ name: 'lookup', args: { q: 'prism' } });
    // thoughts 2; candidates 1 text + ceil(13/4)
    expect(chunks.at(-1)?.usageMetadata).toMatchObject({ thoughtsTokenCount: 2, candidatesTokenCount: 5, totalTokenCount: PROMPT_TOKENS + 7 });
  });

  it('is served under v1beta too', async () => {
    const client = new GoogleGenAI({ apiKey: 'x', apiVersion: 'v1beta', httpOptions: { baseUrl: sim.geminiBaseURL } });
    let text = '';
    for await (const chunk of await client.models.generateContentStream(request({ chunks: 2 }, 'gemini-beta'))) text += chunk.text;
    expect(text).toBe('tok tok ');
    expect(sim.requests.find((r) => r.model === 'gemini-beta')?.path).toBe('/v1beta/models/gemini-beta:streamGenerateContent');
  });

  it.each([
    ['length', FinishReason.MAX_TOKENS],
    ['content_filter', FinishReason.SAFETY],
  ] as const)('maps finishReason %s to %s', async (finishReason, expected) => {
    const chunks = [];
    for await (const chunk of await gemini.models.generateContentStream(request({ chunks: 1, finishReason }))) chunks.push(chunk);
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe(expected);
  });

  it('raises the error event as an ApiError', async () => {
    const texts: string[] = [];
    const error = await (async () => {
      for await (const chunk of await gemini.models.generateContentStream(request({ chunks: 4, failAfterChunks: 2 }))) {
        texts.push(chunk.text ?? '');
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    expect(texts).toEqual(['tok ', 'tok ']);
  });

  it('raises a dropped connection', async () => {
    const error = await (async () => {
      for await (const _ of await gemini.models.generateContentStream(request({ chunks: 4, failAfterChunks: 1, failMode: 'drop' }))) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('terminated');
  });
});

describe('generateContent', () => {
  it('answers with merged text, function calls and usage', async () => {
    const response = await gemini.models.generateContent(
      request({ chunks: 3, thinkingChunks: 1, toolCalls: [{ name: 'f', arguments: '{"a":1}' }] }),
    );
    expect(response.candidates?.[0]?.content?.parts?.map((p) => Object.keys(p).sort().join())).toEqual(['text,thought', 'text', 'functionCall']);
    expect(response.functionCalls?.[0]).toMatchObject({ name: 'f', args: { a: 1 } });
    expect(response.usageMetadata).toMatchObject({ promptTokenCount: PROMPT_TOKENS, candidatesTokenCount: 3 + 2, thoughtsTokenCount: 1 });
  });

  it('answers HTTP errors with the Google error body, retried only when retryOptions ask', async () => {
    const error = await gemini.models.generateContent(request({ httpErrors: { status: 429, count: 1 } }, 'gemini-429')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).message).toContain('RESOURCE_EXHAUSTED');

    const retrying = new GoogleGenAI({
      apiKey: 'x',
      httpOptions: { baseUrl: sim.geminiBaseURL, retryOptions: { attempts: 3, initialDelay: 0.05, maxDelay: 0.1 } },
    });
    const response = await retrying.models.generateContent(request({ chunks: 1, httpErrors: { status: 503, count: 2 } }, 'gemini-retry'));
    expect(response.text).toBe('tok ');
    expect(sim.requests.filter((r) => r.model === 'gemini-retry').map((r) => [r.attempt, r.status])).toEqual([
      [0, 503],
      [1, 503],
      [2, 200],
    ]);
  });
});
