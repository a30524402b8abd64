// One variant (bare openai 7 or openai 7 + LLM Prism) in one process: answers "round" requests
// with, per call, the time from the application's create() to the request's headers and to its
// last body byte handed to the socket, as undici reports them on diagnostics_channel.
import { subscribe } from 'node:diagnostics_channel';
import { scenarioHeaders } from '@llm-prism/simulator';
import { serveParent } from '../lib/child.ts';
import { openaiClient } from '../overhead/bench-call.ts';
import { loadVariant, type Variant } from '../overhead/variants.ts';

export interface RoundRequest {
  promptBytes: number;
  calls: number;
}
export interface RoundResult {
  /** create() → `undici:client:sendHeaders`, ms, one per call. */
  toHeadersMs: number[];
  /** create() → `undici:request:bodySent`, ms, one per call. */
  toBodySentMs: number[];
}

const variant = process.argv[2] as Variant;
const baseURL = process.argv[3] as string;
const loaded = await loadVariant(variant);
const client = openaiClient(loaded.client, { baseURL, maxRetries: 0 });
const options = { headers: scenarioHeaders({ chunks: 1, tokensPerChunk: 1, chunkIntervalMs: 0 }) };

// Calls run one after the other, so the one request in flight is the current call's.
let headersAt = Number.NaN;
let bodySentAt = Number.NaN;
subscribe('undici:client:sendHeaders', () => {
  headersAt = performance.now();
});
subscribe('undici:request:bodySent', () => {
  bodySentAt = performance.now();
});

const prompts = new Map<number, string>();
function prompt(bytes: number): string {
  let p = prompts.get(bytes);
  if (p === undefined) {
    p = 'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(bytes / 45)).slice(0, bytes);
    prompts.set(bytes, p);
  }
  return p;
}

serveParent(async (m) => {
  const req = m as unknown as RoundRequest;
  const content = prompt(req.promptBytes);
  const result: RoundResult = { toHeadersMs: [], toBodySentMs: [] };
  for (let i = 0; i < req.calls; i++) {
    headersAt = bodySentAt = Number.NaN;
    const t0 = performance.now();
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }, options);
    if (Number.isNaN(headersAt) || Number.isNaN(bodySentAt)) throw new Error('the request was not seen on undici diagnostics_channel');
    result.toHeadersMs.push(headersAt - t0);
    result.toBodySentMs.push(bodySentAt - t0);
  }
  await loaded.flush();
  return result;
});
process.send?.({ ready: variant });
