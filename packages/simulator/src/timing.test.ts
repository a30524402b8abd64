import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';
import type { Scenario } from './types.ts';

// Timings are measured at the client, with the real SDKs, against the injected delays.
const scenario: Scenario = { queueMs: 200, prefillMs: 300, chunks: 10, chunkIntervalMs: 30, pings: true };
const headers = scenarioHeaders(scenario);

/** The shared machine is noisy: ±35 % or ±80 ms, whichever is larger. */
function expectNear(actual: number, expected: number): void {
  const tolerance = Math.max(expected * 0.35, 80);
  expect(actual).toBeGreaterThan(expected - tolerance);
  expect(actual).toBeLessThan(expected + tolerance);
}

interface Marks {
  headers: number;
  first: number;
  last: number;
  outputs: number;
}

function expectScenarioTiming(m: Marks): void {
  expectNear(m.headers, 200);
  expectNear(m.first, 500);
  expectNear(m.last - m.first, 9 * 30);
  expect(m.outputs).toBe(10);
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(() => sim.close());

describe('timing measured at the client', () => {
  it('OpenAI chat: headers after queueMs, role chunk at once, first text after queueMs + prefillMs', async () => {
    const openai = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'x' });
    const start = performance.now();
    const { data: stream } = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers })
      .withResponse();
    const m: Marks = { headers: performance.now() - start, first: 0, last: 0, outputs: 0 };
    let roleAt = 0;
    for await (const chunk of stream) {
      const at = performance.now() - start;
      if (chunk.choices[0]?.delta.role) roleAt = at;
      if (chunk.choices[0]?.delta.content) {
        if (m.outputs++ === 0) m.first = at;
        m.last = at;
      }
    }
    expectScenarioTiming(m);
    expectNear(roleAt, 200);
  });

  it('OpenAI responses', async () => {
    const openai = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'x' });
    const start = performance.now();
    const { data: stream } = await openai.responses.create({ model: 'gpt-5', input: 'hi', stream: true }, { headers }).withResponse();
    const m: Marks = { headers: performance.now() - start, first: 0, last: 0, outputs: 0 };
    for await (const event of stream) {
      if (event.type !== 'response.output_text.delta') continue;
      const at = performance.now() - start;
      if (m.outputs++ === 0) m.first = at;
      m.last = at;
    }
    expectScenarioTiming(m);
  });

  it('Anthropic messages, with pings during prefill', async () => {
    const anthropic = new Anthropic({ baseURL: sim.anthropicBaseURL, apiKey: 'x', openTelemetry: false });
    const start = performance.now();
    const { data: stream } = await anthropic.messages
      .create({ model: 'claude-sim', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers })
      .withResponse();
    const m: Marks = { headers: performance.now() - start, first: 0, last: 0, outputs: 0 };
    for await (const event of stream) {
      if (event.type !== 'content_block_delta') continue;
      const at = performance.now() - start;
      if (m.outputs++ === 0) m.first = at;
      m.last = at;
    }
    expectScenarioTiming(m);
  });

  it('Gemini', async () => {
    const gemini = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: sim.geminiBaseURL } });
    const start = performance.now();
    const stream = await gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi', config: { httpOptions: { headers } } });
    const m: Marks = { headers: performance.now() - start, first: 0, last: 0, outputs: 0 };
    for await (const chunk of stream) {
      if (!chunk.text) continue;
      const at = performance.now() - start;
      if (m.outputs++ === 0) m.first = at;
      m.last = at;
    }
    expectScenarioTiming(m);
  });

  it('a non-streamed answer arrives once fully generated', async () => {
    const openai = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'x' });
    const start = performance.now();
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers });
    expectNear(performance.now() - start, 200 + 300 + 9 * 30);
  });

  it('thinking chunks come before the text, one interval apart', async () => {
    const anthropic = new Anthropic({ baseURL: sim.anthropicBaseURL, apiKey: 'x', openTelemetry: false });
    const start = performance.now();
    const stream = anthropic.messages.stream(
      { model: 'claude-sim', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
      { headers: scenarioHeaders({ prefillMs: 100, thinkingChunks: 5, chunks: 1, chunkIntervalMs: 60 }) },
    );
    let thinkingAt = 0;
    let textAt = 0;
    stream.on('thinking', () => {
      thinkingAt ||= performance.now() - start;
    });
    stream.on('text', () => {
      textAt ||= performance.now() - start;
    });
    await stream.finalMessage();
    expectNear(thinkingAt, 100);
    expectNear(textAt, 100 + 5 * 60);
  });
});
