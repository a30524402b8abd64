// What the package asks of the application's install: an `@opentelemetry/api` peer range wider than
// the one its OpenTelemetry dependencies accept let npm install api 1.9 with a warning only, and
// then `new LlmPrismInstrumentation()` and the register entry threw at load.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const manifest = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
const own = manifest(new URL('../package.json', import.meta.url).pathname);
const require = createRequire(new URL('../package.json', import.meta.url));

/** A dependency's package.json, found above its main file (its exports leave package.json out). */
function installed(name: string): Manifest {
  for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && manifest(file).name === name) return manifest(file);
  }
  throw new Error(`no package.json of ${name}`);
}

test("the @opentelemetry/api peer range is the one each OpenTelemetry dependency's own peer range gives", () => {
  const ranges = Object.keys(own.dependencies ?? {})
    .filter((name) => name.startsWith('@opentelemetry/'))
    .map((name) => [name, installed(name).peerDependencies?.['@opentelemetry/api']] as const)
    .filter(([, range]) => range !== undefined);
  expect(ranges.length).toBeGreaterThan(0);
  for (const [name, range] of ranges) expect(own.peerDependencies?.['@opentelemetry/api'], name).toBe(range);
});
