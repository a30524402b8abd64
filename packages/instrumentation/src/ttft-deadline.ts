/**
 * The TTFT deadline (docs/conventions.md, "Hangs: the TTFT deadline"): a call that has had no
 * output for `ttftDeadlineMs` since it started exports an `llm.ttft_deadline` span right then, so a
 * hang reaches the SLO rollups while it hangs instead of when it ends. One unref'd timer per call,
 * cleared by the call's first output or its end: no interval scan, nothing keeps the process alive.
 */
import { diag, type Attributes, type Context, type Tracer } from '@opentelemetry/api';
import { ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_REQUEST_STREAM, ATTR_LLM_ROUTE, SPAN_NAME_LLM_TTFT_DEADLINE } from './semconv.ts';

/**
 * Default deadline: one minute. It must be at least every TTFT threshold of the SLOs that watch
 * the service (a report at a deadline below a threshold is no event for that SLO); a minute covers
 * interactive thresholds and reasoning models' long first tokens alike, and a report a minute (plus
 * the exporter's batch delay) after the call started still lands inside the page rows' windows
 * (never under 2 minutes: docs/slo.md, Hangs).
 */
export const DEFAULT_TTFT_DEADLINE_MS = 60_000;

/** Environment variable for the deadline in ms (`0` turns the reports off); the config option wins. */
const TTFT_DEADLINE_ENV = 'LLM_PRISM_TTFT_DEADLINE_MS';

/** Node's timers take at most 2^31 − 1 ms. */
const MAX_DEADLINE_MS = 2_147_483_647;

/** The deadline in ms if `value` is one (0: off), else undefined. */
function validDeadlineMs(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_DEADLINE_MS ? value : undefined;
}

const invalid = (source: string, value: unknown): string =>
  `llm-prism: ${source} must be a number of milliseconds from 0 (off) to ${MAX_DEADLINE_MS}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}; using ${DEFAULT_TTFT_DEADLINE_MS}`;

/** `LLM_PRISM_TTFT_DEADLINE_MS` as set, or the default; an unusable value is reported (diag) and replaced by the default. */
export function deadlineFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[TTFT_DEADLINE_ENV]?.trim();
  if (text === undefined || text === '') return DEFAULT_TTFT_DEADLINE_MS;
  const ms = validDeadlineMs(/^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN);
  if (ms !== undefined) return ms;
  diag.warn(invalid(TTFT_DEADLINE_ENV, text));
  return DEFAULT_TTFT_DEADLINE_MS;
}

/** Unusable option values already reported. */
const warned = new Set<unknown>();

/** The `ttftDeadlineMs` option if it is usable, else `fallback` (an unusable value is reported once per value, diag). */
export function configuredDeadlineMs(option: unknown, fallback: number): number {
  if (option === undefined) return fallback;
  const ms = validDeadlineMs(option);
  if (ms !== undefined) return ms;
  if (!warned.has(option)) {
    warned.add(option);
    diag.warn(invalid('ttftDeadlineMs', option));
  }
  return DEFAULT_TTFT_DEADLINE_MS;
}

/** The call span attributes the rollups key an early report by (docs/clickhouse.md, migration 7). */
const REPORTED = [ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_REQUEST_STREAM, ATTR_LLM_ROUTE];

/** What a call hands its deadline: where and how to report. */
export interface DeadlineCall {
  tracer: Tracer;
  /** Context with the call span active: the report is its child. */
  callContext: Context;
  /** Call start (`performance.now()` time): the deadline counts from there. */
  start: number;
  /** The call's `performance.now()` times as epoch ms (stats.ts anchoredEpoch): the report on the call span's time base. */
  epoch: (t: number) => number;
  /** The call span's attributes, as the recorder keeps them up to date (the provider, from the first request). */
  attributes: Attributes;
}

/** One call's deadline: armed at call start, cleared by its first output or its end. */
export class TtftDeadline {
  readonly #call: DeadlineCall;
  /** Call start + deadline (`performance.now()` time). */
  readonly #due: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reported = false;

  constructor(ms: number, call: DeadlineCall) {
    this.#call = call;
    this.#due = call.start + ms;
    this.#arm();
  }

  /** True once the `llm.ttft_deadline` span was exported. */
  get reported(): boolean {
    return this.#reported;
  }

  /** The first output arrived or the call ended: no report. */
  clear(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    // Node's timers count whole milliseconds and may fire a fraction early: rounded up, re-armed in #fire.
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(this.#due - performance.now())));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    if (performance.now() < this.#due) return this.#arm();
    const call = this.#call;
    try {
      const all = call.attributes;
      const attributes: Attributes = {};
      for (const key of REPORTED) if (all[key] !== undefined) attributes[key] = all[key];
      // Ends now, not at start + deadline: how long the call had waited when it was seen without
      // output. Both times explicit, on the call span's time base (an SDK span given a start time
      // would take its end from Date.now()).
      const span = call.tracer.startSpan(SPAN_NAME_LLM_TTFT_DEADLINE, { startTime: call.epoch(call.start), attributes }, call.callContext);
      span.end(call.epoch(performance.now()));
      this.#reported = true;
    } catch (err) {
      diag.debug('llm-prism: reporting a call past its TTFT deadline failed', err);
    }
  }
}
