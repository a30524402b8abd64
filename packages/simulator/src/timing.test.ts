import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioHeaders } from './scenario.ts';
import { startSimulator, type Simulator } from './server.ts';
import type { Scenario } from './types.ts';

// Timings are measured at the client, with the real SDKs, against the injected delays. The delays
// are long enough for ±35 % to absorb a busy shared machine.
const QUEUE = 400;
const PREFILL = 600;
const INTERVAL = 100;
const scenario: Scenario = { queueMs: QUEUE, prefillMs: PREFILL, chunks: 10, chunkIntervalMs: INTERVAL, pings: true };
const headers = scenarioHeaders(scenario);

/** The shared machine is noisy: ±35 % or ±80 ms, whichever is larger. */
function expectNear(actual: number, expected: number): void {
  const tolerance = Math.max(expected * 0.35, 80);
  expect(actual).toBeGreaterThan(expected - tolerance);
  expect(actual).toBeLessThan(expected + tolerance);
}

interface Marks {
  headers: number;
  /** Arrival of every output chunk, ms since the call started. */
  outputs: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function expectScenarioTiming(m: Marks): void {
  expectNear(m.headers, QUEUE);
  expectNear(m.outputs[0] ?? Number.NaN, QUEUE + PREFILL);
  expect(m.outputs).toHaveLength(10);
  // One scheduling hiccup of the shared machine delays one chunk; the median gap shrugs it off,
  // and a stream can only be late, never early, so the total has a lower bound.
  expectNear(median(m.outputs.slice(1).map((at, i) => at - (m.outputs[i] ?? 0))), INTERVAL);
  expect((m.outputs.at(-1) ?? 0) - (m.outputs[0] ?? 0)).toBeGreaterThan(9 * INTERVAL * 0.65);
}

let sim: Simulator;
let openai: OpenAI;
let anthropic: Anthropic;
let gemini: GoogleGenAI;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, defaultScenario: { chunks: 1 } });
  openai = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'x' });
  anthropic = new Anthropic({ baseURL: sim.anthropicBaseURL, apiKey: 'x', openTelemetry: false });
  gemini = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: sim.geminiBaseURL } });
  // Warm-up: module loading and the first connection are not the simulator's delays.
  const messages = [{ role: 'user' as const, content: 'hi' }];
  await openai.chat.completions.create({ model: 'warm', messages });
  await anthropic.messages.create({ model: 'warm', max_tokens: 1, messages });
  await gemini.models.generateContent({ model: 'warm', contents: 'hi' });
});
afterAll(() => sim.close());

describe('timing measured at the client', () => {
  it('OpenAI chat: headers after queueMs, role chunk at once, first text after queueMs + prefillMs', async () => {
    const start = performance.now();
    const { data: stream } = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers })
      .withResponse();
    const m: Marks = { headers: performance.now() - start, outputs: [] };
    let roleAt = 0;
    for await (const chunk of stream) {
      const at = performance.now() - start;
      if (chunk.choices[0]?.delta.role) roleAt = at;
      if (chunk.choices[0]?.delta.content) {
        m.outputs.push(at);
      }
    }
    expectScenarioTiming(m);
    expectNear(roleAt, QUEUE);
  });

  it('OpenAI responses', async () => {
    const start = performance.now();
    const { data: stream } = await openai.responses.create({ model: 'gpt-5', input: 'hi', stream: true }, { headers }).withResponse();
    const m: Marks = { headers: performance.now() - start, outputs: [] };
    for await (const event of stream) {
      if (event.type !== 'response.output_text.delta') continue;
      const at = performance.now() - start;
      m.outputs.push(at);
    }
    expectScenarioTiming(m);
  });

  it('Anthropic messages, with pings during prefill', async () => {
    const start = performance.now();
    const { data: stream } = await anthropic.messages
      .create({ model: 'claude-sim', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers })
      .withResponse();
    const m: Marks = { headers: performance.now() - start, outputs: [] };
    for await (const event of stream) {
      if (event.type !== 'content_block_delta') continue;
      const at = performance.now() - start;
      m.outputs.push(at);
    }
    expectScenarioTiming(m);
  });

  it('Gemini', async () => {
    const start = performance.now();
    const stream = await gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi', config: { httpOptions: { headers } } });
    const m: Marks = { headers: performance.now() - start, outputs: [] };
    for await (const chunk of stream) {
      if (!chunk.text) continue;
      const at = performance.now() - start;
      m.outputs.push(at);
    }
    expectScenarioTiming(m);
  });

  it('a non-streamed answer arrives once fully generated', async () => {
    const start = performance.now();
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers });
    expectNear(performance.now() - start, QUEUE + PREFILL + 9 * INTERVAL);
  });

  it('thinking chunks come before the text, one interval apart', async () => {
    const start = performance.now();
    const stream = anthropic.messages.stream(
      { model: 'claude-sim', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
      { headers: scenarioHeaders({ prefillMs: 300, thinkingChunks: 5, chunks: 1, chunkIntervalMs: 100 }) },
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
    expectNear(thinkingAt, 300);
    expectNear(textAt, 300 + 5 * 100);
  });
});
