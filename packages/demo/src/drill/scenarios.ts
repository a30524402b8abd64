// The SLO drill's scripted incidents: for each minute since an incident starts, which kind of call
// the service makes. Kinds are real calls recorded once through the simulator (see templates.ts).
import type { Objective } from '@llm-prism/grafana';

/** Calls the drill records for real and replays. */
export type CallKind = 'healthy' | 'slow_ttft' | 'midstream_error' | 'failure' | 'hang';

export type ScenarioName = 'total_outage' | 'slow_burn_10x' | 'burn_1' | 'hang' | 'flapping';

/** What one minute of a scenario looks like. */
export type MinuteMix =
  /** Every call of the minute is of this kind. */
  | { all: CallKind }
  /** Shares of calls bad for TTFT and bad for completion (spread evenly, exact over time). */
  | { ttftBad: number; completionBad: number };

export interface Scenario {
  name: ScenarioName;
  /** Minutes the drill evaluates after the incident starts. */
  minutes: number;
  description: string;
  minute(m: number, ttft: Objective, completion: Objective): MinuteMix;
}

/** Minutes the provider is down, then up, in turn, in `flapping`. */
export const FLAP_MINUTES = 3;
/** How long `hang` lasts: calls started then never get an answer. */
export const HANG_MINUTES = 60;

const burn = (rate: number, o: Objective) => Math.min(1, rate * (1 - o.objective));

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'total_outage',
    minutes: 120,
    description: 'every call fails before its first token (HTTP 503 on every attempt) for 2 h',
    minute: () => ({ all: 'failure' }),
  },
  {
    name: 'slow_burn_10x',
    minutes: 480,
    description: '10× the budget rate of each SLI (capped at every call bad) for 8 h: slow first tokens and mid-stream errors',
    minute: (_m, ttft, completion) => ({ ttftBad: burn(10, ttft), completionBad: burn(10, completion) }),
  },
  {
    name: 'burn_1',
    minutes: 3 * 1_440,
    description: 'exactly the budget rate of each SLI for 3 days',
    minute: (_m, ttft, completion) => ({ ttftBad: burn(1, ttft), completionBad: burn(1, completion) }),
  },
  {
    name: 'hang',
    minutes: 120,
    description: `the provider accepts calls and never answers for ${HANG_MINUTES} min; each call is reported at the TTFT deadline and ends when the client gives up`,
    minute: (m) => (m < HANG_MINUTES ? { all: 'hang' } : { all: 'healthy' }),
  },
  {
    name: 'flapping',
    minutes: 240,
    description: `the provider is down ${FLAP_MINUTES} min, up ${FLAP_MINUTES} min, in turn, for 4 h`,
    minute: (m) => ({ all: Math.floor(m / FLAP_MINUTES) % 2 === 0 ? 'failure' : 'healthy' }),
  },
];

/**
 * Picks each call's kind so that the shares of the mix hold exactly over time (error diffusion):
 * a call bad for both SLIs fails outright, bad for TTFT only has a slow first token, bad for
 * completion only errors mid-stream.
 */
export class KindPicker {
  #ttft = 0;
  #completion = 0;

  next(mix: MinuteMix): CallKind {
    if ('all' in mix) return mix.all;
    this.#ttft += mix.ttftBad;
    this.#completion += mix.completionBad;
    // The epsilon keeps float sums like 10 × 0.1 from falling short of 1.
    const ttftBad = this.#ttft >= 1 - 1e-9;
    const completionBad = this.#completion >= 1 - 1e-9;
    if (ttftBad) this.#ttft -= 1;
    if (completionBad) this.#completion -= 1;
    return ttftBad && completionBad ? 'failure' : ttftBad ? 'slow_ttft' : completionBad ? 'midstream_error' : 'healthy';
  }
}
