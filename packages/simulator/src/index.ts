export { startSimulator, type Simulator, type SimulatorOptions } from './server.ts';
export { PromptCache } from './cache.ts';
export { SCENARIO_HEADER, scenarioHeaders } from './scenario.ts';
export { MESSAGE_OVERHEAD_TOKENS, TEXT_TOKEN, THINKING_TOKEN } from './tokens.ts';
export type {
  CacheOptions,
  FinishReason,
  Provider,
  ProviderCacheOptions,
  RequestLogEntry,
  Scenario,
  ToolCallSpec,
} from './types.ts';
