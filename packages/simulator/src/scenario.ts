import { textTokens } from './tokens.ts';
import type { FinishReason, Scenario, ToolCallSpec } from './types.ts';

export const SCENARIO_HEADER = 'x-llm-sim-scenario';

/** A scenario with its defaults filled in. */
export type ResolvedScenario = Required<
  Pick<Scenario, 'queueMs' | 'prefillMs' | 'chunks' | 'chunkIntervalMs' | 'tokensPerChunk' | 'thinkingChunks'>
> &
  Omit<Scenario, 'queueMs' | 'prefillMs' | 'chunks' | 'chunkIntervalMs' | 'tokensPerChunk' | 'thinkingChunks'> & {
    toolCalls: ToolCallSpec[];
    finishReason: FinishReason;
  };

export function resolveScenario(s: Scenario): ResolvedScenario {
  const toolCalls = s.toolCalls ?? [];
  return {
    ...s,
    queueMs: s.queueMs ?? 0,
    prefillMs: s.prefillMs ?? 0,
    chunks: s.chunks ?? 5,
    chunkIntervalMs: s.chunkIntervalMs ?? 0,
    tokensPerChunk: s.tokensPerChunk ?? 1,
    thinkingChunks: s.thinkingChunks ?? 0,
    toolCalls,
    finishReason: s.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
  };
}

/** The per-request override header for a scenario, ready for an SDK's `headers` option. */
export function scenarioHeaders(scenario: Scenario): Record<string, string> {
  return { [SCENARIO_HEADER]: JSON.stringify(scenario) };
}

/** Parses the per-request override header; a malformed header is the client's error. */
export function parseScenarioHeader(value: string | string[] | undefined): Scenario | undefined {
  if (value === undefined) return undefined;
  const parsed: unknown = JSON.parse(Array.isArray(value) ? (value[0] ?? '') : value);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${SCENARIO_HEADER} must be a JSON object`);
  }
  return parsed as Scenario;
}

/** Splits a tool call's arguments into `fragments` contiguous pieces (at least one). */
export function argumentFragments(call: ToolCallSpec): string[] {
  const n = Math.max(1, Math.min(call.fragments ?? 1, call.arguments.length || 1));
  const size = Math.ceil(call.arguments.length / n);
  const pieces: string[] = [];
  for (let i = 0; i < n; i++) pieces.push(call.arguments.slice(i * size, (i + 1) * size));
  return pieces.filter((p, i) => p !== '' || i === 0);
}

export interface OutputTokens {
  text: number;
  thinking: number;
  tools: number;
  /** text + thinking + tools */
  total: number;
}

export function outputTokens(s: ResolvedScenario): OutputTokens {
  const text = s.chunks * s.tokensPerChunk;
  const thinking = s.thinkingChunks * s.tokensPerChunk;
  const tools = s.toolCalls.reduce((sum, c) => sum + textTokens(c.arguments), 0);
  return { text, thinking, tools, total: text + thinking + tools };
}

/** Number of output chunks the scenario streams: thinking, text and every argument fragment. */
export function outputChunkCount(s: ResolvedScenario): number {
  return s.thinkingChunks + s.chunks + s.toolCalls.reduce((sum, c) => sum + argumentFragments(c).length, 0);
}
