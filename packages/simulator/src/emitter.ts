import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedScenario } from './scenario.ts';

/** Thrown inside a provider's stream writer once the stream is over (failed or client gone). */
export class StreamEnded extends Error {}

const PING_EVERY_MS = 250;

/** `data: <json>` event; Gemini terminates events with CRLF CRLF, the others with LF LF. */
export function sseData(payload: unknown, eol: '\n' | '\r\n' = '\n'): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}${eol}${eol}`;
}

/** `event: <type>` + `data: <json>` event (Anthropic, OpenAI Responses). */
export function sseEvent(type: string, payload: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/**
 * Writes one streamed answer with the scenario's timing: structural events go out at once,
 * the first output chunk waits for prefill, later ones the chunk interval, and the scenario's
 * failure replaces the chunk after `failAfterChunks`. Every event is its own write, so that
 * (with TCP_NODELAY) each reaches the client when it is sent.
 */
export class Emitter {
  readonly #res: ServerResponse;
  readonly #scenario: ResolvedScenario;
  /** The provider's mid-stream error, sent when the scenario fails with `error_event`. */
  errorEvents: () => string[] = () => [];
  #outputSent = 0;
  #prefilled = false;
  #gone = false;

  constructor(res: ServerResponse, scenario: ResolvedScenario) {
    this.#res = res;
    this.#scenario = scenario;
    res.on('close', () => {
      this.#gone = true;
    });
  }

  get outputSent(): number {
    return this.#outputSent;
  }

  /** Events that carry no output (role-only chunks, block starts, lifecycle events). */
  send(...events: string[]): void {
    if (this.#gone || this.#res.writableEnded) throw new StreamEnded();
    for (const event of events) this.#res.write(event);
  }

  /** The prefill wait; Anthropic passes its ping event to keep the connection visibly alive. */
  async prefill(ping?: string): Promise<void> {
    if (this.#prefilled) return;
    this.#prefilled = true;
    let left = this.#scenario.prefillMs;
    if (ping === undefined) {
      await sleep(left);
      return;
    }
    this.send(ping);
    while (left > 0) {
      const step = Math.min(PING_EVERY_MS, left);
      await sleep(step);
      left -= step;
      if (left > 0) this.send(ping);
    }
  }

  /** One output chunk, which may span several events (a tool call's header and first fragment). */
  async output(...events: string[]): Promise<void> {
    await this.#waitForNext();
    this.send(...events);
    this.#outputSent++;
  }

  /** Output the provider produces but does not stream (Chat Completions reasoning): only time passes. */
  async hidden(): Promise<void> {
    await this.#delay();
  }

  /** Called before the closing events: a scenario that fails does so here at the latest. */
  async finish(): Promise<void> {
    if (this.#scenario.failAfterChunks === undefined) return this.prefill();
    await this.#delay();
    this.#fail();
  }

  /** Delay until the next chunk is due, failing instead if the scenario says so. */
  async #waitForNext(): Promise<void> {
    await this.#delay();
    const failAfter = this.#scenario.failAfterChunks;
    if (failAfter !== undefined && this.#outputSent >= failAfter) this.#fail();
  }

  async #delay(): Promise<void> {
    if (this.#prefilled) await sleep(this.#scenario.chunkIntervalMs);
    else await this.prefill();
  }

  #fail(): never {
    if (this.#scenario.failMode === 'drop') {
      this.#res.socket?.destroy();
    } else {
      this.send(...this.errorEvents());
      this.#res.end();
    }
    throw new StreamEnded();
  }
}
