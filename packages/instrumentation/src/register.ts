/**
 * Zero-code entry point: `node --import @llm-prism/instrumentation/register app.js`.
 * Starts a NodeSDK configured by the standard OTEL_* environment variables with the LLM Prism
 * instrumentation, and flushes it when the process ends.
 */
import module from 'node:module';
import { diag } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { LlmPrismInstrumentation } from './instrumentation.ts';

// ESM apps import the SDK's .mjs files, which only import-in-the-middle's loader hook can patch.
module.register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const sdk = new NodeSDK({ instrumentations: [new LlmPrismInstrumentation()] });
sdk.start();

let shutdown: Promise<void> | undefined;
function flush(): Promise<void> {
  shutdown ??= sdk.shutdown().catch((err: unknown) => diag.error('llm-prism: telemetry shutdown failed', err));
  return shutdown;
}

// beforeExit fires when the event loop drains; the async shutdown keeps the process alive until spans are sent.
process.once('beforeExit', () => void flush());

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  const onSignal = (): void => {
    void flush().finally(() => {
      // Restore the default behaviour (termination by this signal) once telemetry is out.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    });
  };
  process.once(signal, onSignal);
}
