import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
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
 * Sleeps until a `performance.now()` deadline; a passed deadline still yields to the event loop,
 * so back-to-back chunks leave as separate writes and other connections get their turn.
 */
export async function sleepUntil(deadline: number): Promise<void> {
  await sleep(Math.max(0, deadline - performance.now()));
}

/**
 * Writes one streamed answer with the scenario's timing: structural events go out at once,
 * the first output chunk is due `prefillMs` after the headers, each later one a chunk interval
 * after the previous, and the scenario's failure replaces the chunk after `failAfterChunks`.
 * Due times are absolute, so a timer that fires late on a busy machine does not push back every
 * later chunk. Every event is its own write, so that (with TCP_NODELAY) each reaches the client
 * when it is sent.
 */
export class Emitter {
  readonly #res: ServerResponse;
  readonly #scenario: ResolvedScenario;
  /** The provider's mid-stream error, sent when the scenario fails with `error_event`. */
  errorEvents: () => string[] = () => [];
  #outputSent = 0;
  #prefilled = false;
  #gone = false;
  /** performance.now() at which the next output chunk is due. */
  #due: number;
  readonly #headersAt: number;

  /** Frames each event when the stream is not SSE (Route.frame). */
  readonly #frame: ((event: string) => Uint8Array) | undefined;

  /** `headersAt`: the (planned) performance.now() of the response headers. */
  constructor(res: ServerResponse, scenario: ResolvedScenario, headersAt: number, frame?: (event: string) => Uint8Array) {
    this.#res = res;
    this.#frame = frame;
    this.#scenario = scenario;
    this.#headersAt = headersAt;
    this.#due = headersAt + scenario.prefillMs;
    res.on('close', () => {
      this.#gone = true;
    });
  }

  /** Events that carry no output (role-only chunks, block starts, lifecycle events). */
  send(...events: string[]): void {
    if (this.#gone || this.#res.writableEnded) throw new StreamEnded();
    for (const event of events) this.#res.write(this.#frame ? this.#frame(event) : event);
  }

  /** The prefill wait; Anthropic passes its ping event, sent at once and every 250 ms of it. */
  async prefill(ping?: string): Promise<void> {
    if (this.#prefilled) return;
    this.#prefilled = true;
    if (ping !== undefined) {
      let at = this.#headersAt;
      do {
        await sleepUntil(at);
        this.send(ping);
        at += PING_EVERY_MS;
      } while (at < this.#due);
    }
    await sleepUntil(this.#due);
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
    await this.#fail();
  }

  /** Delay until the next chunk is due, failing instead if the scenario says so. */
  async #waitForNext(): Promise<void> {
    await this.#delay();
    const failAfter = this.#scenario.failAfterChunks;
    if (failAfter !== undefined && this.#outputSent >= failAfter) await this.#fail();
  }

  /** Waits for the current slot (prefill first) and books the next one an interval later. */
  async #delay(): Promise<void> {
    if (this.#prefilled) await sleepUntil(this.#due);
    else await this.prefill();
    this.#due += this.#scenario.chunkIntervalMs;
  }

  async #fail(): Promise<never> {
    if (this.#scenario.failMode === 'drop') {
      // What was sent reaches the client first; then the connection dies without an ending.
      await new Promise<void>((resolve) => this.#res.write('', () => resolve()));
      this.#res.socket?.destroy();
    } else {
      this.send(...this.errorEvents());
      this.#res.end();
    }
    throw new StreamEnded();
  }
}
