import { expect } from 'vitest';
import { attributesOf, type RegisterRun } from './register-harness.ts';

const SPAN_KIND_CLIENT = 3;

/** Both fixture apps make one streamed chat call and one non-streamed Responses call. */
export function expectCallTrees(run: RegisterRun, serviceName: string): void {
  expect(run.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
  const byId = new Map(run.spans.map((s) => [s.spanId, s]));
  const parentName = (name: string) => byId.get(run.spans.find((s) => s.name === name)!.parentSpanId ?? '')?.name;

  const chat = run.spans.find((s) => s.name === 'chat gpt-4o');
  expect(chat, 'streamed call span').toBeDefined();
  expect(chat!.kind).toBe(SPAN_KIND_CLIENT);
  expect(chat!.scope).toBe('@llm-prism/instrumentation');
  expect(chat!.serviceName).toBe(serviceName);
  expect(attributesOf(chat!)).toMatchObject({
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.stream': true,
    'gen_ai.response.finish_reasons': { values: [{ stringValue: 'stop' }] },
    'llm.outcome': 'success',
    'llm.stream.chunks': 5,
    'gen_ai.usage.output_tokens': 5,
  });
  expect(parentName('llm.ttft')).toBe('chat gpt-4o');
  expect(parentName('llm.client_setup')).toBe('llm.ttft');
  expect(parentName('llm.queue')).toBe('llm.ttft');
  expect(parentName('llm.decode')).toBe('chat gpt-4o');

  const responses = run.spans.find((s) => s.name === 'chat gpt-5');
  expect(responses, 'Responses call span').toBeDefined();
  const queues = run.spans.filter((s) => s.name === 'llm.queue');
  expect(queues).toHaveLength(2);
  expect(queues.some((q) => q.parentSpanId === responses!.spanId)).toBe(true);
  expect(run.spans.filter((s) => s.name === 'llm.client_setup')).toHaveLength(2);
}
