// A client that sends an oversized body straight away (as the official exporters do) must still
// read the 413: an answer lost to a connection reset looks like a network error, which exporters
// retry (EPIPE and ECONNRESET are retryable) instead of dropping the batch with a clear reason.
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { post } from './http-post.ts';
import { freePort, startServe, stopServe, type ServeProcess } from '../../packages/cli/test/serve-process.ts';
import { report } from './tally.ts';

const CAP = 1024 * 1024;
let serve: ServeProcess;
beforeAll(async () => {
  serve = await startServe({ dataDir: await tempDataDir(), port: await freePort(), args: ['--max-body-bytes', String(CAP)] });
});
afterAll(async () => {
  if (serve) await stopServe(serve);
});

test.each([
  ['chunked, 4 MiB', () => Array.from({ length: 64 }, () => new Uint8Array(65_536).fill(10))],
  ['with Content-Length, 3 MiB', () => new Uint8Array(3 * CAP).fill(10)],
])('%s over a 1 MiB cap, 100 times: every request gets its 413', async (name, body) => {
  const outcomes: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const outcome = await post(`${serve.url}/v1/traces`, { 'content-type': 'application/x-protobuf' }, body()).then(
      (answer) => String(answer.status),
      (err: NodeJS.ErrnoException) => err.code ?? String(err),
    );
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  report(`oversized-answer ${name}`, outcomes);
  expect(outcomes).toEqual({ 413: 100 });
});
