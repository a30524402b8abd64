export { LlmPrismInstrumentation } from './instrumentation.ts';
export { currentLlmContext, withLlmContext, type LlmContext } from './context.ts';
export type { LlmPrismInstrumentationConfig } from './types.ts';
export * from './semconv.ts';
