import { defaultServerConditions } from 'vite';
import type { ViteUserConfig } from 'vitest/config';

/**
 * The repo's tests run the TypeScript sources: every package exports them under the
 * `llm-prism-source` condition (.npmrc sets it for npm scripts). Vite resolves the modules it
 * loads itself; processes the tests spawn (`node --import @llm-prism/instrumentation/register`,
 * the CLI) resolve through Node, which reads NODE_OPTIONS.
 */
export const SOURCE_CONDITION = 'llm-prism-source';

if (!process.env.NODE_OPTIONS?.includes(`--conditions=${SOURCE_CONDITION}`)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=${SOURCE_CONDITION}`.trim();
}

export const sourceResolve: ViteUserConfig['resolve'] = {
  conditions: [SOURCE_CONDITION, ...defaultServerConditions],
};
