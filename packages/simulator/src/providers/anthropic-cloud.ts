/**
 * Anthropic models on the clouds: the Messages API's bodies, the model named by the path.
 * - Vertex AI: `…/publishers/anthropic/models/{model}:rawPredict` and `:streamRawPredict` (SSE).
 * - Amazon Bedrock: `/model/{modelId}/invoke` and `/invoke-with-response-stream`, whose stream is
 *   an AWS event stream (`application/vnd.amazon.eventstream`) instead of SSE: each event of the
 *   Messages stream is one `chunk` message whose payload carries the event's JSON in base64, and a
 *   mid-stream failure is an `exception` message. Framed by AWS's own codec.
 */
import { createRequire } from 'node:module';
import type { Route } from '../route.ts';
import { anthropicMessages } from './anthropic.ts';

// Its CommonJS build, through `require`, whatever conditions a bundler or test runner adds: the
// "module" build has extensionless imports Node cannot load.
const require = createRequire(import.meta.url);
const { EventStreamCodec } = require('@smithy/core/event-streams') as typeof import('@smithy/core/event-streams');
const { toUtf8, fromUtf8 } = require('@smithy/core/serde') as typeof import('@smithy/core/serde');
const codec = new EventStreamCodec(toUtf8, fromUtf8);

const header = (value: string) => ({ type: 'string' as const, value });

/** One SSE event of the Messages stream (`event: …\ndata: …\n\n`) as its event-stream message. */
function frame(sse: string): Uint8Array {
  const data = /^data: (.*)$/m.exec(sse)?.[1] ?? '';
  if (/^event: error$/m.test(sse)) {
    // Bedrock reports a failure during generation as an exception, not as the Messages error event.
    const message = (JSON.parse(data) as { error?: { message?: string } }).error?.message ?? 'error';
    return codec.encode({
      headers: { ':message-type': header('exception'), ':exception-type': header('modelStreamErrorException'), ':content-type': header('application/json') },
      body: Buffer.from(JSON.stringify({ message, originalStatusCode: 529 })),
    });
  }
  return codec.encode({
    headers: { ':message-type': header('event'), ':event-type': header('chunk'), ':content-type': header('application/json') },
    body: Buffer.from(JSON.stringify({ bytes: Buffer.from(data).toString('base64') })),
  });
}

/** The Messages route with the model from the path and streaming decided by the path. */
const onPath = (streamed: boolean): Route => ({
  ...anthropicMessages,
  model: (_body, pathModel) => pathModel ?? '',
  stream: () => streamed,
});

export const vertexRawPredict = onPath(false);
export const vertexStreamRawPredict = onPath(true);

const bedrock = (streamed: boolean): Route => ({
  ...onPath(streamed),
  headers: (requestId) => ({ 'x-amzn-requestid': requestId, 'x-amzn-bedrock-content-type': 'application/json' }),
  ...(streamed && { streamContentType: 'application/vnd.amazon.eventstream', frame }),
});

export const bedrockInvoke = bedrock(false);
export const bedrockInvokeStream = bedrock(true);
