/** The instrumented SDK must behave exactly like the uninstrumented one. */
import { SpanKind, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, finishedCalls, scenario, treeOf, type Harness } from '../test/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.exporter.reset());

const params = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hello' }] };
const opts = scenario({ chunks: 5, chunkIntervalMs: 5 });
type Client = Harness['client'];

/** Runs `fn` against the instrumented and the plain client and returns both results. */
async function both<T>(fn: (client: Client) => Promise<T>): Promise<[T, T]> {
  return [await fn(h.client), await fn(h.plainClient)];
}

/** Text of a completion, without the random ids. */
const textOf = (chunks: Array<{ choices: Array<{ delta: { content?: string | null } }> }>) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('SDK behaviour is unchanged', () => {
  it('the patched methods keep their name and arity', () => {
    const shape = (f: { name: string; length: number }) => [f.name, f.length];
    expect(shape(h.client.chat.completions.create)).toEqual(shape(h.plainClient.chat.completions.create));
    expect(shape(h.client.responses.create)).toEqual(shape(h.plainClient.responses.create));
    expect(shape(h.anthropic.messages.create)).toEqual(shape(h.plainAnthropic.messages.create));
    expect(shape(h.client.chat.completions.create)).toEqual(['create', 2]);
  });

  it('the plain client is really uninstrumented', async () => {
    await h.plainClient.chat.completions.create(params, opts);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('withResponse()', async () => {
    const [a, b] = await both(async (c) => {
      const { data, response, request_id } = await c.chat.completions.create(params, opts).withResponse();
      return { object: data.object, text: data.choices[0]!.message.content, status: response.status, hasRequestId: typeof request_id === 'string', type: response.headers.get('content-type') };
    });
    expect(a).toEqual(b);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.outcome']).toBe('success');
  });

  it('asResponse() leaves the body to the application', async () => {
    const [a, b] = await both(async (c) => {
      const response = await c.chat.completions.create(params, opts).asResponse();
      const body = (await response.json()) as { object: string; choices: Array<{ message: { content: string } }> };
      return { status: response.status, object: body.object, text: body.choices[0]!.message.content };
    });
    expect(a).toEqual(b);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['gen_ai.usage.output_tokens']).toBe(5);
  });

  it('stream.tee()', async () => {
    const [a, b] = await both(async (c) => {
      const [left, right] = (await c.chat.completions.create({ ...params, stream: true }, opts)).tee();
      const l = [];
      for await (const chunk of left) l.push(chunk);
      const r = [];
      for await (const chunk of right) r.push(chunk);
      return [textOf(l), textOf(r), l.length];
    });
    expect(a).toEqual(b);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.stream.chunks']).toBe(5);
  });

  it('stream.toReadableStream()', async () => {
    const [a, b] = await both(async (c) => {
      const readable = (await c.chat.completions.create({ ...params, stream: true }, opts)).toReadableStream();
      const lines = (await new Response(readable).text()).trim().split('\n');
      return lines.map((line) => (JSON.parse(line) as { object: string }).object);
    });
    expect(a).toEqual(b);
    await finishedCalls(h.exporter);
  });

  it('chat.completions.stream() helper', async () => {
    const [a, b] = await both(async (c) => {
      const runner = c.chat.completions.stream(params, opts);
      const final = await runner.finalChatCompletion();
      return [final.object, final.choices[0]!.message.content];
    });
    expect(a).toEqual(b);
    const [call] = await finishedCalls(h.exporter);
    expect(treeOf(h.exporter, call!).decode).toBeDefined();
  });

  it('a 400 answer is thrown unchanged and the call span still ends', async () => {
    const [a, b] = await both(async (c) => {
      try {
        await c.chat.completions.create({ ...params, model: 'gpt-4o' }, { ...opts, headers: { 'x-llm-sim-scenario': 'not json' } });
        return 'resolved';
      } catch (e) {
        return [(e as Error).constructor.name, (e as { status?: number }).status];
      }
    });
    expect(a).toEqual(b);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes['llm.outcome']).toBe('error');
  });
});

describe('internal failures never reach the application', () => {
  it('runs the call uninstrumented when the tracer throws', async () => {
    const broken: Tracer = {
      startSpan: () => {
        throw new Error('tracer exploded');
      },
      startActiveSpan: () => {
        throw new Error('tracer exploded');
      },
    };
    const provider: TracerProvider = { getTracer: () => broken };
    h.instrumentation.setTracerProvider(provider);
    try {
      const completion = await h.client.chat.completions.create(params, opts);
      expect(completion.choices[0]!.message.content).toBeTypeOf('string');
      const stream = await h.client.chat.completions.create({ ...params, stream: true }, opts);
      let n = 0;
      for await (const _ of stream) n++;
      expect(n).toBeGreaterThan(0);
    } finally {
      h.instrumentation.setTracerProvider(h.provider);
    }
    expect(h.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(0);
  });
});
