// AnyValue arrays and kvlists nested thousands of levels deep, in steps, so that every depth
// between "the decoder copes" and "the decoder gives up" is tried. Each answer must be 200 or a
// 400 naming the problem; a stack overflow past the decoder must not become a 500.
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startIngest, type IngestServer } from '../../packages/ingest/src/index.ts';
import { buildRequest, MESSAGE, sdkSpans, serialize, type Encoding } from './bad-inputs.ts';
import { otlpMessage, post } from './http-post.ts';
import { report } from './tally.ts';

let storage: Storage;
let server: IngestServer;
beforeAll(async () => {
  storage = await openStorage({ dataDir: await tempDataDir() });
  server = await startIngest({ port: 0, storage, maxBodyBytes: 1 << 20, log: () => {} });
});
afterAll(async () => {
  await server?.close();
  await storage?.close();
});

test.each(['json', 'protobuf'] as const)('%s: nesting 2 000 to 8 000 levels deep is answered 200 or 400, never 500', async (encoding: Encoding) => {
  const base = { protobuf: serialize(sdkSpans('deep-base'), 'protobuf'), json: serialize(sdkSpans('deep-base'), 'json') };
  const answers: Record<number, number> = {};
  const wrong: string[] = [];
  for (const shape of ['array', 'kvlist', 'mixed'] as const) {
    for (let depth = 2000; depth <= 8000; depth += 125) {
      const req = buildRequest({ kind: 'deep-nesting', encoding, depth, shape }, base);
      const res = await post(`${server.url}/v1/traces`, req.headers, req.body);
      answers[res.status] = (answers[res.status] ?? 0) + 1;
      const { message } = otlpMessage(res);
      if (res.status !== 200 && !(res.status === 400 && MESSAGE[400]!.test(message))) {
        wrong.push(`${shape} ${depth}: ${res.status} ${message.slice(0, 120)}`);
      }
    }
  }
  report(`deep-nesting-${encoding}`, { inputsTried: Object.values(answers).reduce((a, b) => a + b, 0), answers, wrong: wrong.length });
  expect(wrong).toEqual([]);
});
