/**
 * The Anthropic SDK's own OpenTelemetry span (`anthropic.messages.create`) would be a second CLIENT
 * span for every call we already trace. For clients constructed while the instrumentation is
 * enabled it is turned off, unless the application asked for it: an `openTelemetry` client option,
 * or `ANTHROPIC_OPEN_TELEMETRY=true` in the environment. Then both spans exist, in one trace.
 */
import type { Span } from '@opentelemetry/api';

type Resolve = (option: unknown) => { traces: object };

/** True when the application explicitly asked the Anthropic SDK for its own spans. */
export function sdkTracingRequested(option: unknown): boolean {
  return option !== undefined || process.env.ANTHROPIC_OPEN_TELEMETRY?.trim().toLowerCase() === 'true';
}

/**
 * Wraps the SDK's `resolveOpenTelemetryOptions` (run once per client construction) so that a
 * client given no option gets what the environment says, with traces disabled.
 */
export function withSdkTracingOff(original: Resolve): Resolve {
  return function resolveOpenTelemetryOptions(option: unknown) {
    if (sdkTracingRequested(option)) return original(option);
    const fromEnv = original(undefined);
    return original({ ...fromEnv, traces: { ...fromEnv.traces, enabled: false } });
  };
}

/**
 * The SDK's own call span that a helper (`messages.stream()`) started and hands to `create` in its
 * request options (`__span`), without making it active: our call span becomes its child, so both
 * stay in one trace.
 */
export function sdkCallSpan(options: unknown): Span | undefined {
  const span = (options as { __span?: { span?: unknown } } | undefined)?.__span?.span;
  return typeof (span as Span | undefined)?.spanContext === 'function' ? (span as Span) : undefined;
}
