/**
 * Test support for the Vercel AI SDK tests: `ai` 5 and 6 (with `@ai-sdk/openai` / `@ai-sdk/anthropic`
 * of the matching major) from the workspaces under test/sdk-majors, `ai` 7 from this package's
 * devDependencies, each loaded as an application would: CommonJS through `require` (patched by
 * require-in-the-middle), `ai` 7 (ESM only) through `import()` (import-in-the-middle).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register as registerSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { expect } from 'vitest';

/** import-in-the-middle's hooks, as register.ts installs them (once, before `ai` 7 is imported). */
let esmHooks = false;
function registerEsmHooks(): void {
  if (esmHooks) return;
  esmHooks = true;
  registerSyncHooks({ include: [/\/node_modules\/@ai-sdk\/provider-utils\//] });
}

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Any = any;

export interface AiMajor {
  label: string;
  /** Workspace under test/sdk-majors; none: this package's devDependencies (latest major). */
  fixture?: string;
  version: RegExp;
  /** The retry loop runs in a call group (provider-utils' retryWithExponentialBackoff). */
  groupedRetries: boolean;
  /** ESM only: loaded with import() (import-in-the-middle), else require() (require-in-the-middle). */
  esm: boolean;
}

export const AI_MAJORS: AiMajor[] = [
  { label: 'ai 5', fixture: 'ai-5', version: /^5\./, groupedRetries: false, esm: false },
  { label: 'ai 6', fixture: 'ai-6', version: /^6\./, groupedRetries: true, esm: false },
  { label: 'ai 7', version: /^7\./, groupedRetries: true, esm: true },
];

export interface LoadedAi {
  ai: Any;
  openai: Any;
  anthropic: Any;
}

/**
 * Test environment only: vitest resolves requires from node_modules with the `module` condition,
 * which sends `ai` 5's `require('@opentelemetry/api')` (its own 1.9 copy, which exports a `module`
 * condition) to that package's bundler-only ESM build. Node alone picks the CommonJS build, so the
 * test hands that build to both paths.
 */
function cjsOpenTelemetryApi(require: NodeJS.Require): void {
  const aiRequire = createRequire(require.resolve('ai'));
  const resolved = aiRequire.resolve('@opentelemetry/api');
  if (!resolved.includes(`${join('build', 'esm')}`)) return;
  const cjs = resolved.replace(join('build', 'esm'), join('build', 'src'));
  aiRequire(cjs);
  require.cache[resolved] = require.cache[cjs];
}

export async function loadAi(major: AiMajor): Promise<LoadedAi> {
  const base = major.fixture ? join(REPO, 'test/sdk-majors', major.fixture, 'package.json') : fileURLToPath(import.meta.url);
  const require = createRequire(base);
  const version = (require('ai/package.json') as { version: string }).version;
  expect(version, `${major.label}: installed version`).toMatch(major.version);
  if (major.fixture) expect(require.resolve('ai').startsWith(join(REPO, 'test/sdk-majors', major.fixture))).toBe(true);
  if (major.fixture === 'ai-5') cjsOpenTelemetryApi(require);
  if (!major.esm) return { ai: require('ai'), openai: require('@ai-sdk/openai'), anthropic: require('@ai-sdk/anthropic') };
  registerEsmHooks();
  const url = (name: string) => pathToFileURL(require.resolve(name)).href;
  return { ai: await import(url('ai')), openai: await import(url('@ai-sdk/openai')), anthropic: await import(url('@ai-sdk/anthropic')) };
}

