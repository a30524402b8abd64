// Anthropic models on the clouds. Amazon Bedrock through `@anthropic-ai/bedrock-sdk`
// (AnthropicBedrock): the Messages API, its stream framed as an AWS event stream
// (`application/vnd.amazon.eventstream`), which the tap reads as the SSE events it carries; the
// simulator frames its Messages stream with AWS's codec, and the SDK decodes and checks it as it
// does Bedrock's. Bedrock and Vertex AI requests the instrumentation did not patch (an SDK copy
// outside its hooks, plain fetch) are recognised on the wire by their paths.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { STREAM_TIMINGS, clientSpans, now, readLate, readUntilError, useWireHarness } from '../test/contract.ts';
import { TIMING, expectStreamedTree, finishedCalls, scenario } from '../test/harness.ts';

const h = useWireHarness();
const model = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const messages = [{ role: 'user' as const, content: 'Hello from Bedrock' }];
const client = () => {
  // The CommonJS copy, required once the harness has enabled the instrumentation: patched (test/harness.ts).
  const { AnthropicBedrock } = createRequire(import.meta.url)('@anthropic-ai/bedrock-sdk') as typeof import('@anthropic-ai/bedrock-sdk');
  return new AnthropicBedrock({ awsRegion: 'us-east-1', awsAccessKey: 'AKIDEXAMPLE', awsSecretKey: 'secret', baseURL: h.sim.url, maxRetries: 0 });
};

describe('AnthropicBedrock', () => {
  it('streamed: queue, TTFT and decode at arrival times from the event stream, with usage and finish reason, read late', TIMING, async () => {
    const bedrock = client();
    const { started, pullStart, items } = await readLate(() => bedrock.messages.create({ model, max_tokens: 200, messages, stream: true }, scenario(STREAM_TIMINGS)), 1000);
    const [call] = await finishedCalls(h.exporter);
    const t = expectStreamedTree(h.exporter, call!, { name: `chat ${model}`, started, pullStart, ...STREAM_TIMINGS });
    const start = items.find((e) => e.type === 'message_start');
    const delta = items.findLast((e) => e.type === 'message_delta');
    expect(start?.type === 'message_start' && delta?.type === 'message_delta').toBe(true);
    if (start?.type !== 'message_start' || delta?.type !== 'message_delta') return;
    expect(t.call.attributes).toMatchObject({
      'gen_ai.request.model': model,
      'gen_ai.response.model': start.message.model,
      'gen_ai.response.id': start.message.id,
      'gen_ai.usage.input_tokens': start.message.usage.input_tokens,
      'gen_ai.usage.output_tokens': delta.usage.output_tokens,
      'gen_ai.response.finish_reasons': [delta.delta.stop_reason],
      'llm.stream.chunks': STREAM_TIMINGS.chunks,
      'llm.outcome': 'success',
    });
  });

  it('streamed, failing mid-stream (an exception message): the application gets the SDK error, the span says error with the exception type', TIMING, async () => {
    const stream = await client().messages.create({ model, max_tokens: 200, messages, stream: true }, scenario({ ...STREAM_TIMINGS, failAfterChunks: 3, failMode: 'error_event' }));
    const { received, error } = await readUntilError(stream, (e) => e.type === 'content_block_delta');
    expect(received).toBe(3);
    expect(error).toBeInstanceOf(Error);
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes).toMatchObject({ 'llm.outcome': 'error', 'error.type': 'modelStreamErrorException' });
  });

  it('not streamed (InvokeModel): one call with the answer’s usage', TIMING, async () => {
    const answer = await client().messages.create({ model, max_tokens: 200, messages }, scenario(STREAM_TIMINGS));
    const [call] = await finishedCalls(h.exporter);
    expect(call!.attributes).toMatchObject({
      'gen_ai.request.model': model,
      'gen_ai.usage.input_tokens': answer.usage.input_tokens,
      'gen_ai.usage.output_tokens': answer.usage.output_tokens,
      'llm.outcome': 'success',
    });
  });
});

describe('recognised on the wire', () => {
  it('Bedrock, streamed, from an SDK copy the instrumentation did not patch: one call, the model from the path, phases at arrival', TIMING, async () => {
    // The ES module copy: vitest loads it outside the instrumentation's require hook.
    const { AnthropicBedrock } = await import('@anthropic-ai/bedrock-sdk');
    const bedrock = new AnthropicBedrock({ awsRegion: 'us-east-1', awsAccessKey: 'AKIDEXAMPLE', awsSecretKey: 'secret', baseURL: h.sim.url, maxRetries: 0 });
    const { started, pullStart } = await readLate(() => bedrock.messages.create({ model, max_tokens: 200, messages, stream: true }, scenario(STREAM_TIMINGS)), 1000);
    const [call] = await clientSpans(h.exporter, 1);
    const t = expectStreamedTree(h.exporter, call!, { name: `chat ${model}`, started, pullStart, ...STREAM_TIMINGS });
    expect(t.call.attributes).toMatchObject({ 'gen_ai.request.model': model, 'llm.stream.chunks': STREAM_TIMINGS.chunks, 'llm.outcome': 'success' });
  });

  it('Vertex AI, streamRawPredict by plain fetch: one call, the model from the path, phases at arrival', TIMING, async () => {
    const vertexModel = 'claude-sonnet-4-5@20250929';
    const started = now();
    const response = await fetch(`${h.sim.url}/v1/projects/p/locations/us-east5/publishers/anthropic/models/${encodeURIComponent(vertexModel)}:streamRawPredict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...scenario(STREAM_TIMINGS).headers },
      body: JSON.stringify({ anthropic_version: 'vertex-2023-10-16', max_tokens: 200, messages, stream: true }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the whole answer arrives, unread
    const pullStart = now();
    await response.text();
    const [call] = await clientSpans(h.exporter, 1);
    const t = expectStreamedTree(h.exporter, call!, { name: `chat ${vertexModel}`, started, pullStart, ...STREAM_TIMINGS });
    expect(t.call.attributes).toMatchObject({ 'gen_ai.request.model': vertexModel, 'llm.outcome': 'success' });
  });

  it('a Bedrock request of another model family (no `anthropic_version`) is no Anthropic call', async () => {
    const response = await fetch(`${h.sim.url}/model/meta.llama3-70b-instruct-v1:0/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Hello', max_gen_len: 64 }),
    });
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.exporter.getFinishedSpans()).toEqual([]);
  });
});
