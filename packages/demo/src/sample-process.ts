// The sample service as a child process instrumented only by `node --import
// @llm-prism/instrumentation/register`, as a user runs theirs: the demo and the SLO drill send it
// requests and its spans reach the ingest service named in its OTEL_* environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Built (dist/*.js) or run from source (src/*.ts): the sample service sits beside this module.
const sampleService = fileURLToPath(new URL(`./sample-service${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
// Resolved from this package, so the demo also runs from an install whose cwd cannot see it.
const registerHook = import.meta.resolve('@llm-prism/instrumentation/register');

export interface SampleService {
  child: ChildProcess;
  url: string;
}

export async function startSampleService(env: Record<string, string>): Promise<SampleService> {
  const child = spawn(process.execPath, ['--import', registerHook, sampleService], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const port = (JSON.parse(line) as { listening?: number }).listening;
    if (port) return { child, url: `http://127.0.0.1:${port}` };
  }
  throw new Error(`the sample service exited (code ${child.exitCode}) before listening`);
}

/** SIGTERM makes the instrumentation flush its spans before the process exits; resolves once it has. */
export async function stopSampleService(service: SampleService): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = once(service.child, 'exit');
  service.child.kill('SIGTERM');
  await exited;
}
