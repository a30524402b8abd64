export { LlmPrismInstrumentation } from './instrumentation.ts';
export { currentLlmContext, withLlmContext, type LlmContext } from './context.ts';
export type {
  LlmOutcome,
  LlmPrismInstrumentationConfig,
  LlmRequestHook,
  LlmRequestHookInfo,
  LlmResponseHook,
  LlmResponseHookInfo,
  LlmTokenUsage,
  PromptCacheOptions,
} from './types.ts';
export * from './semconv.ts';
export { DEFAULT_TTFT_DEADLINE_MS } from './ttft-deadline.ts';
