import OpenAI, { AzureOpenAI, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';
import type { Scenario } from './types.ts';

// The openai SDK's AzureOpenAI client, unmodified, against the simulator.

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(() => sim.close());

const API_VERSION = '2024-10-21';
// 'hi' is 1 token + 4 overhead.
const messages = [{ role: 'user' as const, content: 'hi' }];
const PROMPT_TOKENS = 5;

function withScenario(scenario: Scenario) {
  return { headers: scenarioHeaders(scenario) };
}

interface Sent {
  url: URL;
  headers: Headers;
}

/** An AzureOpenAI client that records the URL and headers of what it sends. */
function azure(options: ConstructorParameters<typeof AzureOpenAI>[0]): { client: AzureOpenAI; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = new AzureOpenAI({
    apiKey: 'azure-key',
    apiVersion: API_VERSION,
    ...options,
    fetch: (url, init) => {
      sent.push({ url: new URL(String(url)), headers: new Headers(init?.headers) });
      return fetch(url, init);
    },
  });
  return { client, sent };
}

function logged(model: string) {
  return sim.requests.filter((r) => r.model === model).map(({ provider, path, model, attempt, status }) => ({ provider, path, model, attempt, status }));
}

describe('AzureOpenAI with endpoint and deployment', () => {
  it('streams chat completions from /openai/deployments/{deployment}; the deployment is the model', async () => {
    const { client, sent } = azure({ endpoint: sim.url, deployment: 'prism-gpt4o' });
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
      withScenario({ chunks: 3, tokensPerChunk: 2 }),
    );
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('tok '.repeat(6));
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 6, total_tokens: PROMPT_TOKENS + 6 });
    expect(chunks[0]?.model).toBe('prism-gpt4o');

    expect(logged('prism-gpt4o')).toEqual([
      { provider: 'openai', path: '/openai/deployments/prism-gpt4o/chat/completions', model: 'prism-gpt4o', attempt: 0, status: 200 },
    ]);
    // What the client sent: the api-version query and the api-key header, no authorization.
    expect(sent.map((s) => [s.url.pathname, s.url.searchParams.get('api-version')])).toEqual([
      ['/openai/deployments/prism-gpt4o/chat/completions', API_VERSION],
    ]);
    expect(sent[0]?.headers.get('api-key')).toBe('azure-key');
    expect(sent[0]?.headers.has('authorization')).toBe(false);
  });

  it('answers a chat completion not streamed', async () => {
    const { client } = azure({ endpoint: `${sim.url}/`, deployment: 'prism-whole' });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages }, withScenario({ chunks: 2 }));
    expect(completion.choices[0]?.message.content).toBe('tok tok ');
    expect(completion.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 2, total_tokens: PROMPT_TOKENS + 2 });
    expect(completion.model).toBe('prism-whole');
    expect(logged('prism-whole')).toEqual([
      { provider: 'openai', path: '/openai/deployments/prism-whole/chat/completions', model: 'prism-whole', attempt: 0, status: 200 },
    ]);
  });

  it('takes the deployment from the model when the client names none', async () => {
    const { client } = azure({ endpoint: sim.url });
    const final = await client.chat.completions
      .stream({ model: 'prism-by-model', messages, stream_options: { include_usage: true } }, withScenario({ chunks: 1 }))
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('tok ');
    expect(final.usage?.completion_tokens).toBe(1);
    expect(logged('prism-by-model').map((r) => r.path)).toEqual(['/openai/deployments/prism-by-model/chat/completions']);
  });

  it('counts the SDK retries of a deployment request as attempts', async () => {
    const { client } = azure({ endpoint: sim.url, deployment: 'prism-retry', maxRetries: 2 });
    const completion = await client.chat.completions.create(
      { model: 'gpt-4o', messages },
      withScenario({ chunks: 1, httpErrors: { status: 429, count: 1, retryAfterS: 0.05 } }),
    );
    expect(completion.choices[0]?.message.content).toBe('tok ');
    expect(logged('prism-retry').map((r) => [r.attempt, r.status])).toEqual([
      [0, 429],
      [1, 200],
    ]);
    const { client: impatient } = azure({ endpoint: sim.url, deployment: 'prism-429', maxRetries: 0 });
    const error = await impatient.chat.completions
      .create({ model: 'gpt-4o', messages }, withScenario({ httpErrors: { status: 429, count: 1 } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
  });
});

describe('AzureOpenAI with a baseURL', () => {
  it('serves a baseURL that already names the deployment', async () => {
    const { client, sent } = azure({ baseURL: `${sim.url}/openai/deployments/prism-base` });
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
      withScenario({ chunks: 2 }),
    );
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('tok tok ');
    expect(usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 2 });
    expect(sent[0]?.url.pathname).toBe('/openai/deployments/prism-base/chat/completions');
    expect(logged('prism-base').map((r) => r.path)).toEqual(['/openai/deployments/prism-base/chat/completions']);
  });
});

describe('AzureOpenAI Responses', () => {
  it('streams and answers /openai/responses, the model in the body naming the deployment', async () => {
    const { client, sent } = azure({ endpoint: sim.url, deployment: 'prism-resp' });
    const stream = await client.responses.create({ model: 'prism-resp', input: 'hi', stream: true }, withScenario({ chunks: 2 }));
    let text = '';
    let usage;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') usage = event.response.usage;
    }
    expect(text).toBe('tok tok ');
    expect(usage).toMatchObject({ input_tokens: PROMPT_TOKENS, output_tokens: 2, total_tokens: PROMPT_TOKENS + 2 });

    const response = await client.responses.create({ model: 'prism-resp', input: 'hi' }, withScenario({ chunks: 3 }));
    expect(response.output_text).toBe('tok tok tok ');
    expect(response.usage).toMatchObject({ input_tokens: PROMPT_TOKENS, output_tokens: 3 });

    expect(logged('prism-resp')).toEqual([
      { provider: 'openai', path: '/openai/responses', model: 'prism-resp', attempt: 0, status: 200 },
      { provider: 'openai', path: '/openai/responses', model: 'prism-resp', attempt: 0, status: 200 },
    ]);
    expect(sent.map((s) => [s.url.pathname, s.url.searchParams.get('api-version'), s.headers.get('api-key')])).toEqual([
      ['/openai/responses', API_VERSION, 'azure-key'],
      ['/openai/responses', API_VERSION, 'azure-key'],
    ]);
  });
});

describe('Azure OpenAI without the SDK', () => {
  it('takes the model from the deployment when the body has none', async () => {
    const response = await fetch(`${sim.url}/openai/deployments/prism-fetch/chat/completions?api-version=${API_VERSION}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': 'azure-key', ...scenarioHeaders({ chunks: 2 }) },
      body: JSON.stringify({ messages }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { model: string; choices: { message: { content: string } }[] };
    expect(body.model).toBe('prism-fetch');
    expect(body.choices[0]?.message.content).toBe('tok tok ');
    expect(logged('prism-fetch').map((r) => r.path)).toEqual(['/openai/deployments/prism-fetch/chat/completions']);
  });

  it('serves deployment-scoped responses', async () => {
    const response = await fetch(`${sim.url}/openai/deployments/prism-fetch-resp/responses?api-version=${API_VERSION}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': 'azure-key', ...scenarioHeaders({ chunks: 1 }) },
      body: JSON.stringify({ input: 'hi' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ object: 'response', model: 'prism-fetch-resp', status: 'completed' });
    expect(logged('prism-fetch-resp').map((r) => r.path)).toEqual(['/openai/deployments/prism-fetch-resp/responses']);
  });

  it('serves the v1 API shape (/openai/v1, model in the body) to the plain OpenAI client with an api-key header', async () => {
    const openai = new OpenAI({ baseURL: `${sim.url}/openai/v1`, apiKey: 'azure-key', defaultHeaders: { 'api-key': 'azure-key' } });
    const final = await openai.chat.completions
      .stream({ model: 'prism-v1', messages, stream_options: { include_usage: true } }, withScenario({ chunks: 2 }))
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('tok tok ');
    expect(final.usage?.prompt_tokens).toBe(PROMPT_TOKENS);
    expect(logged('prism-v1').map((r) => r.path)).toEqual(['/openai/v1/chat/completions']);
  });
});
