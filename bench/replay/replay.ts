// One replayed call each way, in this process and without a network: the instrumentation's own
// response path (the ResponseReader both wire taps feed, its SSE decoding, the format's adapter, the
// CallRecorder and its span export to a discarding BatchSpanProcessor) given the recorded chunks
// one by one with their arrival times, as the taps hand them over; and the bare SDK (openai 7's
// `Stream`) reading the same chunks from a `Response` body.
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Stream } from 'openai/core/streaming';
import { CallRecorder } from '../../packages/instrumentation/src/call-recorder.ts';
import { anthropicMessages } from '../../packages/instrumentation/src/formats/anthropic/adapter.ts';
import type { Api } from '../../packages/instrumentation/src/formats/format.ts';
import { geminiStreamGenerateContent } from '../../packages/instrumentation/src/formats/gemini/adapters.ts';
import { openaiChat, openaiResponses } from '../../packages/instrumentation/src/formats/openai/adapters.ts';
import { ResponseReader } from '../../packages/instrumentation/src/response-reader.ts';
import type { Provider, ReplayStream } from './streams.ts';

const ADAPTERS: Record<Provider, { api: Api; params: Record<string, unknown> }> = {
  'openai-chat': { api: openaiChat, params: { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Summarise.' }] } },
  'openai-responses': { api: openaiResponses, params: { model: 'gpt-4o', stream: true, input: 'Summarise.' } },
  anthropic: { api: anthropicMessages, params: { model: 'claude-sonnet-4-5', stream: true, max_tokens: 1024, messages: [{ role: 'user', content: 'Summarise.' }] } },
  gemini: { api: geminiStreamGenerateContent, params: { model: 'gemini-2.5-flash', contents: 'Summarise.' } },
};

let exported = 0;
const provider = new TracerProvider({
  spanProcessors: [
    new BatchSpanProcessor({
      exporter: {
        export(spans, done) {
          exported += spans.length;
          done({ code: 0 });
        },
        shutdown: async () => {},
        forceFlush: async () => {},
      },
    }),
  ],
});
const tracer = provider.getTracer('replay');

/** Spans handed to the exporter so far (after `flush`). */
export const exportedSpans = (): number => exported;
export const flush = (): Promise<void> => provider.forceFlush();

/** The instrumentation's response path over one recorded answer; content capture as asked. */
export function instrumentedCall(s: ReplayStream, captureContent: boolean): void {
  const { api, params } = ADAPTERS[s.provider];
  const recorder = new CallRecorder({ tracer, adapter: api, info: api.requestInfo(params, 'https://api.example.com/v1'), parentContext: ROOT_CONTEXT, captureContent });
  const reader = new ResponseReader(recorder.attempt(performance.now(), { url: 'https://api.example.com/v1/chat/completions' }));
  reader.headers(200, s.headers, performance.now());
  for (const chunk of s.chunks) reader.chunk(chunk, performance.now());
  reader.end(performance.now());
}

/** openai 7's SSE stream over the same chunks, read to its end; resolves with the items read. */
export async function sdkCall(s: ReplayStream): Promise<number> {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = s.chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
  const stream = Stream.fromSSEResponse(new Response(body, { headers: Object.fromEntries(s.headers) }), new AbortController());
  let items = 0;
  for await (const _ of stream) items++;
  return items;
}
