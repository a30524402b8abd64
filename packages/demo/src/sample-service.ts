// A small chat backend, as a user would write it: it knows nothing about LLM Prism except
// `withLlmContext` for the conversation id. It is instrumented only by
// `node --import @llm-prism/instrumentation/register`.
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { serve } from '@hono/node-server';
import { withLlmContext } from '@llm-prism/instrumentation';
import { streamText } from 'ai';
import { Hono } from 'hono';
import OpenAI from 'openai';
import type { ChatRequest, ChatReply } from './chat-request.ts';

const base = process.env.LLM_PRISM_DEMO_PROVIDER_URL;
if (!base) throw new Error('LLM_PRISM_DEMO_PROVIDER_URL is not set');

const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'demo', maxRetries: 3 });
const anthropic = new Anthropic({ baseURL: base, apiKey: 'demo', maxRetries: 3 });
const gemini = new GoogleGenAI({ apiKey: 'demo', httpOptions: { baseUrl: base } });
// The Vercel AI SDK's OpenAI provider (Responses API over fetch): no SDK patch, calls are recognised on the wire.
const aiSdkOpenAI = createOpenAI({ baseURL: `${base}/v1`, apiKey: 'demo' });

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

/** Drains a stream the way a UI would, stopping early when asked ("stop generating"). */
async function drain<T>(stream: AsyncIterable<T>, stopAfter?: number): Promise<number> {
  let n = 0;
  for await (const _ of stream) {
    if (stopAfter !== undefined && ++n >= stopAfter) break;
  }
  return n;
}

async function answer(req: ChatRequest): Promise<void> {
  // Scenario headers steer the provider simulator; against a real provider they are ignored.
  const headers = req.scenario ? { 'x-llm-sim-scenario': JSON.stringify(req.scenario) } : undefined;
  const messages = req.messages;
  const options = { headers, ...(req.timeoutMs !== undefined ? { timeout: req.timeoutMs, maxRetries: 0 } : {}) };
  switch (req.api) {
    case 'openai.chat': {
      const params = {
        model: req.model,
        messages: [{ role: 'system' as const, content: req.system }, ...messages],
        ...(req.tools ? { tools: [{ type: 'function' as const, function: weatherTool }] } : {}),
      };
      if (!req.stream) {
        await openai.chat.completions.create(params, options);
        return;
      }
      const stream = await openai.chat.completions.create(
        { ...params, stream: true, stream_options: { include_usage: true } },
        options,
      );
      await drain(stream, req.stopAfterChunks);
      return;
    }
    case 'openai.responses': {
      const params = { model: req.model, instructions: req.system, input: messages };
      if (!req.stream) {
        await openai.responses.create(params, options);
        return;
      }
      await drain(await openai.responses.create({ ...params, stream: true }, options), req.stopAfterChunks);
      return;
    }
    case 'anthropic.messages': {
      const params = {
        model: req.model,
        max_tokens: 1024,
        system: [{ type: 'text' as const, text: req.system, cache_control: { type: 'ephemeral' as const } }],
        messages,
        ...(req.tools ? { tools: [{ name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.parameters }] } : {}),
      };
      if (!req.stream) {
        await anthropic.messages.create(params, { headers });
        return;
      }
      await drain(await anthropic.messages.create({ ...params, stream: true }, { headers }), req.stopAfterChunks);
      return;
    }
    case 'gemini.generateContent': {
      const params = {
        model: req.model,
        contents: messages.map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })),
        config: {
          systemInstruction: req.system,
          ...(req.tools ? { tools: [{ functionDeclarations: [{ name: weatherTool.name, description: weatherTool.description, parametersJsonSchema: weatherTool.parameters }] }] } : {}),
          ...(headers ? { httpOptions: { headers } } : {}),
        },
      };
      if (!req.stream) {
        await gemini.models.generateContent(params);
        return;
      }
      await drain(await gemini.models.generateContentStream(params), req.stopAfterChunks);
      return;
    }
    case 'ai-sdk.streamText': {
      // The AI SDK reports stream errors to onError (default: console.error) and ends the stream.
      let failure: unknown;
      const result = streamText({ model: aiSdkOpenAI(req.model), system: req.system, messages, headers, maxRetries: 3, onError: ({ error }) => void (failure = error) });
      await drain(result.textStream, req.stopAfterChunks);
      if (failure) throw failure;
      return;
    }
  }
}

const app = new Hono();
app.post('/chat', async (c) => {
  const req = await c.req.json<ChatRequest>();
  const started = performance.now();
  try {
    await withLlmContext({ conversationId: req.conversationId, route: req.route }, () => answer(req));
    return c.json<ChatReply>({ ok: true, ms: performance.now() - started });
  } catch (err) {
    return c.json<ChatReply>({ ok: false, ms: performance.now() - started, error: String(err) }, 502);
  }
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  // The parent process reads the port from this line.
  process.stdout.write(`${JSON.stringify({ listening: info.port })}\n`);
});
process.on('SIGTERM', () => server.close());
