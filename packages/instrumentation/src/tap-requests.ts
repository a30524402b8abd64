/**
 * What both wire taps (wire-tap.ts: undici; http-tap.ts: node:http) keep of their requests: the
 * readers of those known to be attempts, and the requests whose body decides what they are — made
 * outside any SDK call, they may be LLM calls (wire-calls.ts `candidate`); queued SDK requests while
 * several calls wait for one are the attempt of the call whose request they carry (`queued`,
 * call-scope.ts) — until the body (or the answer) decides them.
 */
import type { AttemptListener, CallListener } from './internal-types.ts';
import { ResponseReader } from './response-reader.ts';
import type { QueuedAttempt, WireCandidate } from './wire-calls.ts';

export type PendingOwner = { candidate: WireCandidate; queued?: undefined } | { candidate?: undefined; queued: QueuedAttempt };

/** What a tap keeps of a pending request; its own fields (the body so far) come on top. */
export type PendingRequest = PendingOwner & {
  /** When its headers went onto the wire, for the attempt it may turn out to be. */
  onWireAt?: number;
};

export class TapRequests<R extends object, P extends PendingRequest> {
  readonly readers = new WeakMap<R, ResponseReader>();
  readonly pending = new WeakMap<R, P>();
  /** Run once a pending request is decided (node:http: its `write`/`end` observers come off). */
  readonly #onDecided: ((p: P) => void) | undefined;

  constructor(onDecided?: (p: P) => void) {
    this.#onDecided = onDecided;
  }

  /** A recognised call's single attempt starts reading the response (`call` undefined: not an LLM call). */
  bindWireCall(request: R, p: P & { candidate: WireCandidate }, call: CallListener | undefined): void {
    if (this.#decided(request, p) && call) this.#read(request, p, call.attempt(p.candidate.startTime, p.candidate.target));
  }

  /** A queued SDK request is the attempt of the call its body (undefined: not seen) says. */
  assignQueued(request: R, p: P & { queued: QueuedAttempt }, body: Buffer | undefined): void {
    const unread = this.#decided(request, p);
    // Assigned even when already read: the waiting calls are told which of them it was.
    const attempt = p.queued.assign(body);
    if (unread && attempt) this.#read(request, p, attempt);
  }

  /** The request is pending no more; whether it still needs a reader. */
  #decided(request: R, p: P): boolean {
    this.pending.delete(request);
    this.#onDecided?.(p);
    return !this.readers.has(request);
  }

  /** `attempt` reads the response; its set-up ended when the request went on the wire. */
  #read(request: R, p: P, attempt: AttemptListener): void {
    const reader = new ResponseReader(attempt);
    this.readers.set(request, reader);
    if (p.onWireAt !== undefined) reader.sent(p.onWireAt);
  }
}
