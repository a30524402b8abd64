/**
 * Zero-code entry point: `node --import @llm-prism/instrumentation/register app.js` (or
 * `--require` for a CommonJS app).
 * Starts a NodeSDK configured by the standard OTEL_* environment variables with the LLM Prism
 * instrumentation, and flushes it when the process ends.
 */
import module from 'node:module';
import { diag, metrics, trace } from '@opentelemetry/api';
import type * as OtelSdkNode from '@opentelemetry/sdk-node';
import { register as registerSyncHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { endCallsInFlight } from './call-recorder.ts';
import { requireCommonJs } from './commonjs.ts';
import { LlmPrismInstrumentation } from './instrumentation.ts';

const { NodeSDK } = requireCommonJs('@opentelemetry/sdk-node') as typeof OtelSdkNode;

const instrumentation = new LlmPrismInstrumentation();

// ESM apps import the SDKs' .mjs files, which only import-in-the-middle's loader hook can patch.
// It wraps only the instrumented SDKs' modules (each wrapper costs every import, and the `_shims`
// registry of openai 4 and `@anthropic-ai/sdk` < 0.50 keeps state that a wrapped second copy would
// not see: "you must import 'openai/shims/node'"). Synchronous in-thread hooks where Node supports them: with the
// asynchronous `module.register` loader, Node 22 cannot `require()` an ES module any more
// (ERR_METHOD_NOT_IMPLEMENTED), which breaks `--require` of this entry point and CommonJS apps
// that require our API.
const packages = instrumentation.getModuleDefinitions().map((d) => d.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
const loaderOptions = {
  include: [new RegExp(`/node_modules/(${packages.join('|')})/`)],
  exclude: [/\/node_modules\/(openai|@anthropic-ai\/sdk)\/_shims\//],
};
if (supportsSyncHooks()) {
  registerSyncHooks(loaderOptions);
  module.registerHooks({ resolve: builtinsStayBuiltin });
} else if (!preloadedWithRequire()) module.register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: loaderOptions });

/**
 * Registered after import-in-the-middle's hooks, so it sees their answer. import-in-the-middle 3.6
 * takes a builtin required by the entry point itself (`node -e`, `node -p`: no file of its own) for
 * an extensionless entry script and answers format `commonjs`; Node then reads `module` from disk
 * and the process stops with ENOENT before the application runs. A `node:` URL is always a builtin.
 */
function builtinsStayBuiltin(
  specifier: string,
  context: module.ResolveHookContext,
  nextResolve: (specifier: string, context?: Partial<module.ResolveHookContext>) => module.ResolveFnOutput,
): module.ResolveFnOutput {
  const resolved = nextResolve(specifier, context);
  return resolved.url.startsWith('node:') && resolved.format !== 'builtin' ? { ...resolved, format: 'builtin' } : resolved;
}

/** `--require` of this entry (a CommonJS app): older Node could not `require()` anything after an async hook. */
function preloadedWithRequire(): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.some((arg, i) => {
    const value = arg === '--require' || arg === '-r' ? args[i + 1] : /^--require=(.*)$/.exec(arg)?.[1];
    return value !== undefined && /instrumentation[\\/](dist[\\/]|src[\\/])?register/.test(value);
  });
}

const sdk = new NodeSDK({ instrumentations: [instrumentation] });
sdk.start();

let shutdown: Promise<void> | undefined;
function flush(): Promise<void> {
  shutdown ??= sdk.shutdown().catch((err: unknown) => diag.error('llm-prism: telemetry shutdown failed', err));
  return shutdown;
}

// beforeExit fires when the event loop drains; the async shutdown keeps the process alive until spans are sent.
process.once('beforeExit', () => void flush());

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  let ending = false;
  const onSignal = (): void => {
    // The application handles the signal too (a graceful shutdown): it decides when the process
    // ends, and the calls it lets finish are still recorded. Send what is batched now; the rest
    // goes out as usual, and all of it at beforeExit.
    if (process.listenerCount(signal) - 1 - signalExitListeners() > 0) {
      void forceFlush();
      return;
    }
    // Alone: the calls in flight end now, as aborted (their answers will never arrive); send
    // everything, then end the process by the signal, as it would have ended without us. This
    // listener stays until then: signal-exit's, once alone, ends the process at once. The same
    // signal again (a second Ctrl-C) ends it at once, as it would have without us.
    if (ending) {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
      return;
    }
    ending = true;
    try {
      endCallsInFlight(signal);
    } catch (err) {
      diag.error('llm-prism: ending the calls in flight failed', err);
    }
    void flush().finally(() => {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    });
  };
  process.on(signal, onSignal);
}

/**
 * Listeners of `signal-exit` (write-file-atomic, execa, …): they only imitate the default and end
 * the process once they are the last listeners, so they are no application handler; counted the
 * way signal-exit counts itself (v4's global emitter, v3's on process), else both would wait.
 */
function signalExitListeners(): number {
  const v4 = (globalThis as Record<symbol, { count?: unknown } | undefined>)[Symbol.for('signal-exit emitter')]?.count;
  const v3 = (process as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__?.count;
  return (typeof v4 === 'number' ? v4 : 0) + (typeof v3 === 'number' ? v3 : 0);
}

/** Exports what the SDK has batched, leaving it running (NodeSDK has only shutdown). */
function forceFlush(): Promise<void> {
  const providers = [(trace.getTracerProvider() as { getDelegate?(): unknown }).getDelegate?.(), metrics.getMeterProvider()] as ({ forceFlush?(): Promise<void> } | undefined)[];
  return Promise.all(providers.map((p) => p?.forceFlush?.())).then(
    () => {},
    (err: unknown) => diag.error('llm-prism: telemetry flush failed', err),
  );
}
