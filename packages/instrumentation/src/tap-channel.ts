/** What both wire taps (undici: wire-tap.ts, node:http: http-tap.ts) subscribe with. */
import { diag } from '@opentelemetry/api';

/** A diagnostics_channel subscription: the channel's name and the listener the tap subscribes to it. */
export type ChannelSubscription = readonly [name: string, onMessage: (message: unknown) => void];

/**
 * A diagnostics_channel listener that takes the arrival time first and never lets a failure of
 * ours reach the request (it is logged through diag under the tap's name).
 */
export function safely<M>(tap: string, handler: (message: M, at: number) => void): (message: unknown) => void {
  return (message: unknown) => {
    const at = performance.now();
    try {
      handler(message as M, at);
    } catch (err) {
      diag.debug(`llm-prism: ${tap} callback failed`, err);
    }
  };
}
