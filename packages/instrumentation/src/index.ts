export { LlmPrismInstrumentation } from './instrumentation.ts';
export type { LlmPrismInstrumentationConfig } from './types.ts';
