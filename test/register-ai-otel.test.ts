// `ai` 7 with `@ai-sdk/otel`: the framework opens its own CLIENT `chat <model>` span (with
// `gen_ai.operation.name`) around each model request, and LLM Prism's call span is its child. The
// child marks that span `llm.measured_by` with its own id, and storage (migration 15) counts each model
// request once, by LLM Prism's span — before, both were llm_calls rows and every request counted twice.
import { decodeJsonRequest, otlpToRows } from '@llm-prism/ingest';
import { openStorage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { expect, it } from 'vitest';
import { attributesOf, runUnderRegister } from './register-harness.ts';

const CLIENT = 3;

it('an AI SDK 7 app with @ai-sdk/otel: its chat spans are marked, llm_calls holds one row per model request, LLM Prism\'s', async () => {
  const run = await runUnderRegister('register-ai-otel.mjs', 'register-ai-otel-app');
  expect(JSON.parse(run.stdout)).toMatchObject({ generated: expect.stringMatching(/tok/), streamed: expect.stringMatching(/tok/) });
  const clientSpans = run.spans.filter((s) => s.kind === CLIENT);
  const ours = clientSpans.filter((s) => s.scope === '@llm-prism/instrumentation');
  const theirs = clientSpans.filter((s) => s.scope !== '@llm-prism/instrumentation');
  expect(ours.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'chat gpt-4o-mini']);
  expect(theirs.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'chat gpt-4o-mini']);
  for (const span of theirs) expect(attributesOf(span)).toMatchObject({ 'gen_ai.operation.name': 'chat', 'llm.measured_by': ours.find((o) => o.parentSpanId === span.spanId)?.spanId });
  for (const call of ours) {
    expect(theirs.map((s) => s.spanId)).toContain(call.parentSpanId);
    expect(attributesOf(call)['llm.measured_by']).toBeUndefined();
  }

  const storage = await openStorage({ dataDir: await tempDataDir() });
  try {
    for (const request of run.requests) {
      const { rows, rejections } = otlpToRows(decodeJsonRequest(JSON.stringify(request)));
      expect(rejections).toEqual([]);
      await storage.insertSpans(rows);
    }
    const result = await storage.client.query({ query: `SELECT SpanId FROM ${storage.database}.llm_calls ORDER BY SpanId`, format: 'JSONEachRow' });
    expect(((await result.json()) as Array<{ SpanId: string }>).map((r) => r.SpanId)).toEqual(ours.map((s) => s.spanId).sort());
  } finally {
    await storage.close();
  }
});
