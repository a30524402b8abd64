import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';

// Every route under the path prefixes real clients and OpenAI-compatible endpoints use.

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(() => sim.close());

const messages = [{ role: 'user' as const, content: 'hi' }];
const scenario = { headers: scenarioHeaders({ chunks: 2 }) };

function lastRequest() {
  const last = sim.requests.at(-1);
  return last && { provider: last.provider, path: last.path, model: last.model, status: last.status };
}

describe('OpenAI Chat Completions and Responses under any prefix', () => {
  it.each([
    ['/v1', 'OpenAI, Together, DeepSeek, vLLM, Ollama, LiteLLM'],
    ['/openai/v1', 'Groq, Azure OpenAI v1'],
    ['/api/v1', 'OpenRouter'],
    ['/v1/openai', 'gateways'],
    ['/v1beta/openai', 'Gemini OpenAI compatibility'],
    ['', 'no prefix'],
  ])('%s (%s)', async (prefix) => {
    const openai = new OpenAI({ baseURL: `${sim.url}${prefix}`, apiKey: 'x' });
    const stream = await openai.chat.completions.create(
      { model: 'prefixed-chat', messages, stream: true, stream_options: { include_usage: true } },
      scenario,
    );
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('tok tok ');
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2 });
    expect(lastRequest()).toEqual({ provider: 'openai', path: `${prefix}/chat/completions`, model: 'prefixed-chat', status: 200 });

    const response = await openai.responses.create({ model: 'prefixed-responses', input: 'hi' }, scenario);
    expect(response.output_text).toBe('tok tok ');
    expect(response.usage?.input_tokens).toBe(5);
    expect(lastRequest()).toEqual({ provider: 'openai', path: `${prefix}/responses`, model: 'prefixed-responses', status: 200 });
  });
});

describe('Anthropic Messages under any prefix', () => {
  it.each([
    ['', '/v1/messages'],
    ['/anthropic', '/anthropic/v1/messages'],
    ['/api', '/api/v1/messages'],
  ])('baseURL %s → %s', async (prefix, path) => {
    const anthropic = new Anthropic({ baseURL: `${sim.url}${prefix}`, apiKey: 'x', openTelemetry: false });
    const message = await anthropic.messages.stream({ model: 'claude-prefixed', max_tokens: 16, messages }, scenario).finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'tok tok ' }]);
    expect(message.usage.input_tokens).toBe(5);
    expect(lastRequest()).toEqual({ provider: 'anthropic', path, model: 'claude-prefixed', status: 200 });
  });
});

describe('Gemini under any prefix', () => {
  it.each([
    ['', 'v1beta'],
    ['', 'v1'],
    ['/gateway/google-ai-studio', 'v1beta'],
  ])('baseUrl %s, apiVersion %s', async (prefix, apiVersion) => {
    const gemini = new GoogleGenAI({ apiKey: 'x', apiVersion, httpOptions: { baseUrl: `${sim.url}${prefix}` } });
    const request = { model: 'gemini-prefixed', contents: 'hi', config: { httpOptions: scenario } };
    let text = '';
    for await (const chunk of await gemini.models.generateContentStream(request)) text += chunk.text;
    expect(text).toBe('tok tok ');
    const path = `${prefix}/${apiVersion}/models/gemini-prefixed`;
    expect(lastRequest()).toEqual({ provider: 'gemini', path: `${path}:streamGenerateContent`, model: 'gemini-prefixed', status: 200 });
    expect((await gemini.models.generateContent(request)).text).toBe('tok tok ');
    expect(lastRequest()).toEqual({ provider: 'gemini', path: `${path}:generateContent`, model: 'gemini-prefixed', status: 200 });
  });

  it('serves the Vertex AI path shape to plain fetch', async () => {
    const path = '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-vertex:streamGenerateContent';
    const response = await fetch(`${sim.url}${path}?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...scenarioHeaders({ chunks: 2 }) },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(response.status).toBe(200);
    expect((await response.text()).match(/^data: /gm)).toHaveLength(2);
    expect(lastRequest()).toEqual({ provider: 'gemini', path, model: 'gemini-vertex', status: 200 });
  });
});

describe('unknown routes', () => {
  it.each([
    ['POST', '/v1/completions'],
    ['POST', '/v1/mychat/completions'],
    ['POST', '/v1/chat/completions/'],
    ['POST', '/v1/chat/completions/extra'],
    ['POST', '/v1/responses/resp_123'],
    ['POST', '/v1/messages/count_tokens'],
    ['POST', '/v1/notmessages'],
    ['POST', '/v1beta/models/gemini-2.5-flash:countTokens'],
    ['POST', '/v1beta/models:generateContent'],
    ['POST', '/openai/deployments/d/embeddings'],
    ['GET', '/v1/chat/completions'],
    ['GET', '/openai/deployments/d/chat/completions'],
  ])('%s %s → 404 with the JSON error, not logged', async (method, path) => {
    const before = sim.requests.length;
    const response = await fetch(`${sim.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { message: `No route for ${method} ${path}`, type: 'not_found' } });
    expect(sim.requests.length).toBe(before);
  });
});
