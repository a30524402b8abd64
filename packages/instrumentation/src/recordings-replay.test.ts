/**
 * Replays recorded provider answers (test/recordings/<provider>/<case>.*) to the real SDKs
 * (`openai`, `@anthropic-ai/sdk`, `@google/genai`, patched as an application's would be) from a
 * raw node:http server in this file, and checks each call's span against the expectations written
 * by hand beside each recording (`<case>.expect.json`): ids, models, usage, finish reasons, tool
 * calls, output messages and the span tree. Recordings come from the simulator (record.ts) and
 * from hand-written fixtures in the providers' documented wire formats (test/recordings/README.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type AnthropicType from '@anthropic-ai/sdk';
import type { GoogleGenAI as GoogleGenAIType } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { patchedOpenAI, useHarness, useRawServer } from '../test/contract.ts';
import { finishedCalls, treeOf } from '../test/harness.ts';

const h = useHarness({ captureMessageContent: true });

const ROOT = new URL('../test/recordings/', import.meta.url);

interface Recording {
  status: number;
  headers: Record<string, string>;
}

interface Expectation {
  /** The SDK call that receives the recording. */
  call: { sdk: 'openai.chat' | 'openai.responses' | 'anthropic.messages' | 'gemini.generateContent' | 'gemini.generateContentStream'; params: Record<string, unknown> };
  /** The application's call fails (an error answer). */
  fails?: boolean;
  /** Attributes of the call span, each exactly. */
  attributes: Record<string, unknown>;
  /** Attributes the call span must not have. */
  absent?: string[];
  /** Every span of the call's tree, by name, sorted. */
  spans: string[];
  /** The llm.tool_call spans in order: name, call id, tool type. */
  tools?: Array<{ name: string; id?: string; type: string }>;
  /** `gen_ai.output.messages`, parsed. */
  outputMessages?: unknown[];
}

/** Every recording with its expectation: `<provider>/<case>`. */
const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(new URL(`${d.name}/`, ROOT))
      .filter((f) => f.endsWith('.expect.json'))
      .map((f) => `${d.name}/${f.slice(0, -'.expect.json'.length)}`),
  )
  .sort();

const read = (name: string): Buffer => readFileSync(new URL(name, ROOT));
const body = (id: string): Buffer => {
  try {
    return read(`${id}.body.sse`);
  } catch {
    return read(`${id}.body.json`);
  }
};

// `/replay/<provider>/<case>/…` answers with that recording, whatever the SDK appended.
const raw = useRawServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const [, , provider, name] = (req.url ?? '').split(/[/?]/);
    const id = `${provider}/${name}`;
    if (!CASES.includes(id)) {
      res.writeHead(404).end();
      return;
    }
    const recording = JSON.parse(read(`${id}.response.json`).toString()) as Recording;
    res.writeHead(recording.status, recording.headers);
    res.end(body(id));
  });
});

async function drain(result: unknown): Promise<void> {
  if (result && typeof result === 'object' && Symbol.asyncIterator in result) for await (const _ of result as AsyncIterable<unknown>);
}

/** Makes the expectation's SDK call against the recording; resolves when the application is done with it. */
async function replay(id: string, call: Expectation['call']): Promise<unknown> {
  const baseURL = `${raw.base}/replay/${id}`;
  try {
    switch (call.sdk) {
      case 'openai.chat':
        await drain(await patchedOpenAI(h, baseURL, 0).chat.completions.create(call.params as never));
        break;
      case 'openai.responses':
        await drain(await patchedOpenAI(h, baseURL, 0).responses.create(call.params as never));
        break;
      case 'anthropic.messages': {
        const Anthropic = h.anthropic.constructor as typeof AnthropicType;
        await drain(await new Anthropic({ baseURL, apiKey: 'test-key', maxRetries: 0 }).messages.create(call.params as never));
        break;
      }
      case 'gemini.generateContent':
      case 'gemini.generateContentStream': {
        const GoogleGenAI = h.gemini.constructor as typeof GoogleGenAIType;
        const models = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: baseURL } }).models;
        await drain(await (call.sdk === 'gemini.generateContent' ? models.generateContent(call.params as never) : models.generateContentStream(call.params as never)));
        break;
      }
    }
  } catch (error) {
    return error ?? new Error('rejected');
  }
  return undefined;
}

const toolsOf = (spans: ReadableSpan[]) =>
  spans.map((s) => {
    const tool: { name: string; id?: string; type: string } = { name: String(s.attributes['gen_ai.tool.name']), type: String(s.attributes['gen_ai.tool.type']) };
    if (s.attributes['gen_ai.tool.call.id'] !== undefined) tool.id = String(s.attributes['gen_ai.tool.call.id']);
    return tool;
  });

describe('recorded provider answers replayed to the real SDKs', () => {
  it('finds the recordings', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
  });

  for (const id of CASES) {
    it(id, async () => {
      const e = JSON.parse(read(`${id}.expect.json`).toString()) as Expectation;
      const error = await replay(id, e.call);
      if (e.fails) expect(error, 'the application call fails').toBeDefined();
      else expect(error, 'the application call succeeds').toBeUndefined();
      const [call] = await finishedCalls(h.exporter);
      const t = treeOf(h.exporter, call!);
      expect(t.all.map((s) => s.name).sort()).toEqual(e.spans);
      const { 'gen_ai.output.messages': output, ...attributes } = call!.attributes;
      expect(attributes).toMatchObject(e.attributes);
      for (const name of e.absent ?? []) expect(call!.attributes[name], name).toBeUndefined();
      expect(toolsOf(t.tools)).toEqual(e.tools ?? []);
      if (e.outputMessages) expect(JSON.parse(String(output))).toEqual(e.outputMessages);
    });
  }
});
