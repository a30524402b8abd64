/**
 * Test support for the SDK-major contract tests (sdk-majors-*.test.ts): each supported major of
 * `openai`, `@anthropic-ai/sdk` and `@google/genai` is installed side by side — the package's own
 * devDependency at the repository root, older majors in the private workspaces under
 * `test/sdk-majors/<name>` (each gets its own `node_modules/<sdk>`, so the hooks see the real
 * module name in the path; npm aliases would not be hooked) — and loaded twice: the CommonJS copy
 * through `require` (patched by require-in-the-middle) and the ESM copy through `import()`
 * (unpatched, the reference for "behaves as uninstrumented").
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { durationMs, type CallTree } from './harness.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface SdkMajor {
  /** Test label, e.g. `openai 4.19`. */
  label: string;
  module: 'openai' | '@anthropic-ai/sdk' | '@google/genai';
  /** Workspace under test/sdk-majors; none: the copy this package's tests use (latest major). */
  fixture?: string;
  /** The installed version must match (a wrong install must fail, not test another release). */
  version: RegExp;
  /** The HTTP client the SDK uses in Node: the tap that must see it. */
  transport: 'undici' | 'node:http';
}

export interface LoadedSdk<T> {
  version: string;
  /** CommonJS copy, patched. */
  patched: T;
  /** ESM copy of the same install, unpatched. */
  plain: T;
}

/** The entry `import()` would pick under Node's conditions (`node`, `import`, `default`). */
function esmTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (entry === null || typeof entry !== 'object') return undefined;
  for (const [condition, target] of Object.entries(entry)) {
    if (condition !== 'node' && condition !== 'import' && condition !== 'default') continue;
    const resolved = esmTarget(target);
    if (resolved) return resolved;
  }
  return undefined;
}

/** Loads one installed SDK; call after the instrumentation is enabled. */
export async function loadSdk<T>(major: SdkMajor): Promise<LoadedSdk<T>> {
  const base = major.fixture ? join(REPO, 'test/sdk-majors', major.fixture, 'package.json') : fileURLToPath(import.meta.url);
  const require = createRequire(base);
  const main = require.resolve(major.module);
  const marker = `${sep}node_modules${sep}${major.module.split('/').join(sep)}${sep}`;
  const packageDir = main.slice(0, main.lastIndexOf(marker) + marker.length);
  if (major.fixture) expect(packageDir.startsWith(join(REPO, 'test/sdk-majors', major.fixture))).toBe(true);
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string; exports?: Record<string, unknown> };
  expect(pkg.version, `${major.label}: installed version`).toMatch(major.version);
  const patched = require(major.module) as T;
  const esm = esmTarget(pkg.exports?.['.']);
  if (!esm) throw new Error(`${major.label}: no ESM entry`);
  const plain = (await import(pathToFileURL(join(packageDir, esm)).href)) as T;
  expect(plain).not.toBe(patched);
  return { version: pkg.version, patched, plain };
}

/**
 * The fidelity the SDK-major contract promises against the simulator's injected timings: ±10 % or
 * ±30 ms, whichever is larger.
 */
export function expectFaithful(actual: number, expected: number, label: string): void {
  const tolerance = Math.max(expected * 0.1, 30);
  expect(Math.abs(actual - expected), `${label}: ${actual.toFixed(1)} ms vs ${expected} ms (±${tolerance.toFixed(0)})`).toBeLessThanOrEqual(tolerance);
}

/** A different prompt for every call: the simulator counts retries of identical requests as attempts. */
let counter = 0;
export const uniquePrompt = (text: string): string => `${text} (#${++counter})`;

export interface InjectedTimings {
  queueMs: number;
  prefillMs: number;
  chunks: number;
  chunkIntervalMs: number;
}

/**
 * Measured phases against the injected ones, appended as JSON lines to the file named by
 * `LLM_PRISM_FIDELITY_LOG` (unset: nothing is written). For the README's fidelity figures.
 */
export function recordFidelity(label: string, what: string, injected: InjectedTimings, t: CallTree): void {
  const file = process.env.LLM_PRISM_FIDELITY_LOG;
  if (!file || !t.queue || !t.ttft || !t.decode) return;
  const line = {
    sdk: label,
    what,
    queue: [round(durationMs(t.queue)), injected.queueMs],
    ttft: [round(durationMs(t.ttft)), injected.queueMs + injected.prefillMs],
    decode: [round(durationMs(t.decode)), (injected.chunks - 1) * injected.chunkIntervalMs],
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
