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

/**
 * The conditions of the test processes, which Vitest also passes to Node (`--conditions`) for the
 * dependencies it leaves to Node: the server defaults without `module`, which Node itself never
 * sets. With it, `require('@smithy/core/…')` (the AWS SDK's) took the bundlers' ES build, whose
 * extensionless imports Node cannot load; users' processes resolve as Node does.
 */
export const testConditions = [SOURCE_CONDITION, ...defaultServerConditions.filter((c) => c !== 'module')];
