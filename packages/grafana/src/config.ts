// SLOs as code: the types of llm-prism.slo.yaml, its loader and a strict validator whose errors
// name the path of the bad field (`slos[1].ttft.objective: …`).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse } from 'yaml';
import { isBucketBoundary, mergePrices, PRICE_TABLE, type ModelPrice } from '@llm-prism/storage';
import { checkKeys, isRecord, type Issues, optionalString } from './config-fields.ts';
import { parsePrices } from './prices-config.ts';

export type SloKind = 'ttft' | 'completion';

export interface Objective {
  /** Latency threshold in ms; must lie on the rollups' bucket grid so good = buckets <= threshold is exact. */
  thresholdMs: number;
  /** Share of good events, MIN_OBJECTIVE ≤ objective ≤ MAX_OBJECTIVE (e.g. 0.95). */
  objective: number;
}

export interface ServiceSlo {
  /** Stable id used in dashboard/rule uids and labels: [a-z0-9-]. */
  id: string;
  service: string;
  /** Restricts both SLOs to one request model. */
  model?: string;
  /** Restricts both SLOs to one route (`llm.route`). */
  route?: string;
  /**
   * Streamed calls: good when the first output chunk arrived within the threshold; one aborted (or
   * reported at its TTFT deadline) before any output is bad once its wait exceeded the threshold,
   * no event before (docs/slo.md, "What counts").
   */
  ttft: Objective;
  /**
   * All calls: good when Outcome = 'success' and the call ended within the threshold; an aborted
   * call (or a TTFT deadline report) is bad once its duration exceeded the threshold, no event
   * before (docs/slo.md, "What counts").
   */
  completion: Objective;
}

export interface SloConfig {
  /** The SLO window; `30d` in a config without SLOs (a price table alone), where nothing reads it. */
  window: '28d' | '30d';
  /** ClickHouse database holding otel_traces, llm_calls and the rollups (default 'otel'). */
  database: string;
  /** Where the team reads docs/slo.md; the rules' runbook_url is this plus a section anchor (default DEFAULT_RUNBOOK_URL). */
  runbookUrl?: string;
  /** Empty in a config without `slos:` (prices only): no SLO dashboard rows and no alert rules. */
  slos: ServiceSlo[];
  /** The file it was read from, named in what is generated from it (default `llm-prism.slo.yaml`). */
  source?: string;
  /** The price table in effect: the shipped one with `prices:` replacing and extending it (docs/cost.md). */
  prices: readonly ModelPrice[];
}

/** The config's file name, as what is generated from it names it. */
export const configName = (config: SloConfig): string => (config.source === undefined ? 'llm-prism.slo.yaml' : basename(config.source));

export class SloConfigError extends Error {
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(`invalid SLO config ${source}:\n  ${issues.join('\n  ')}`);
    this.name = 'SloConfigError';
    this.issues = issues;
  }
}

/** The runbook_url base when the config names none: the docs page as it sits in the LLM Prism repository. */
export const DEFAULT_RUNBOOK_URL = 'docs/slo.md';

/** Objectives the config accepts, where the alert policy (policy.ts) is defined: below 0.5 a total outage barely outburns the budget, above 0.9999 one bad call in an hour pages. */
export const MIN_OBJECTIVE = 0.5;
/** A config value as the message quotes it: YAML's `.nan` and `.inf` as such (JSON would say null). */
const shown = (value: unknown): string => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value));

/**
 * How titles name an SLO: its scope (service, model, route) joined by `separator`, and its id in
 * brackets when another SLO of the config has the same scope (a strict and a lax SLO of one
 * service): Grafana refuses two alert rules of one title in a folder, and two panels of one title
 * are no help. Brackets, which no id holds, keep `checkout [x]` apart from a model named `x`.
 */
export function sloScopeTitle(config: SloConfig, slo: ServiceSlo, separator: string): string {
  const scope = (s: ServiceSlo) => [s.service, s.model, s.route].filter((p) => p !== undefined).join(separator);
  const title = scope(slo);
  return config.slos.some((other) => other !== slo && scope(other) === title) ? `${title} [${slo.id}]` : title;
}

/** An objective as the percentage people write (0.57 → "57", 0.999 → "99.9"), without float noise (0.57 × 100 = 56.99999999999999). */
export function objectivePercent(objective: number): string {
  return String(Number((objective * 100).toPrecision(12)));
}

export const MAX_OBJECTIVE = 0.9999;

export const WINDOW_SECONDS: Record<SloConfig['window'], number> = { '28d': 28 * 86_400, '30d': 30 * 86_400 };

/**
 * The instrumentation's default TTFT deadline (its `DEFAULT_TTFT_DEADLINE_MS`; docs/conventions.md,
 * "Hangs"): a call without output by then is reported while it hangs, as a bad event for every
 * threshold below its wait.
 */
export const DEFAULT_TTFT_DEADLINE_MS = 60_000;

/**
 * One line per SLO whose TTFT threshold lies above the TTFT deadline: a hang reported at the
 * deadline is no event for it, so its hangs count only once they end — unless the services it
 * watches set a deadline at least as large.
 */
export function ttftDeadlineWarnings(config: SloConfig, deadlineMs = DEFAULT_TTFT_DEADLINE_MS): string[] {
  return config.slos.flatMap((slo, i) =>
    slo.ttft.thresholdMs > deadlineMs
      ? [
          `slos[${i}].ttft.thresholdMs: ${slo.ttft.thresholdMs} ms is above the instrumentation's default TTFT deadline (${deadlineMs} ms), so a hang counts in this SLO only once it ends; set LLM_PRISM_TTFT_DEADLINE_MS (or ttftDeadlineMs) to at least ${slo.ttft.thresholdMs} in ${slo.service}`,
        ]
      : [],
  );
}

function objective(v: unknown, path: string, issues: Issues): Objective {
  const out: Objective = { thresholdMs: 0, objective: 0 };
  if (!isRecord(v)) {
    issues.push(`${path}: must be a mapping with thresholdMs and objective`);
    return out;
  }
  checkKeys(v, path, ['thresholdMs', 'objective'], issues);
  const { thresholdMs, objective: obj } = v;
  if (typeof thresholdMs !== 'number' || !isBucketBoundary(thresholdMs)) {
    issues.push(
      `${path}.thresholdMs: must be a latency on the bucket grid (10 ms steps to 2000, 100 ms to 30000, 1000 ms to 300000), got ${shown(thresholdMs)}`,
    );
  } else out.thresholdMs = thresholdMs;
  if (typeof obj !== 'number' || !(obj >= MIN_OBJECTIVE && obj <= MAX_OBJECTIVE)) {
    issues.push(
      `${path}.objective: must be a number from ${MIN_OBJECTIVE} to ${MAX_OBJECTIVE} (e.g. 0.95): outside it no alert policy both pages on a total outage within minutes and stays quiet at a burn of 1 (docs/slo.md, Alert policy), got ${shown(obj)}`,
    );
  } else out.objective = obj;
  return out;
}

function slug(parts: (string | undefined)[]): string {
  return parts
    .filter((p): p is string => p !== undefined)
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Validates parsed YAML; throws SloConfigError listing every bad field. */
export function validateSloConfig(raw: unknown, file?: string): SloConfig {
  const source = file ?? '<config>';
  const issues: Issues = [];
  if (!isRecord(raw)) throw new SloConfigError(source, ['(root): must be a mapping (window and slos, or prices alone)']);
  checkKeys(raw, '(root)', ['window', 'database', 'runbookUrl', 'slos', 'prices'], issues);
  const prices = parsePrices(raw.prices, source, issues);
  const database = optionalString(raw, 'database', '(root)', issues) ?? 'otel';
  const runbookUrl = optionalString(raw, 'runbookUrl', '(root)', issues);
  if (runbookUrl !== undefined && /[#\s]/.test(runbookUrl)) issues.push(`runbookUrl: must be a URL without spaces or #anchor (the rules add the section), got ${JSON.stringify(runbookUrl)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) issues.push(`database: must be a plain identifier, got ${JSON.stringify(database)}`);
  // Without `slos:` the file holds settings only (a price table): no window to state.
  const withSlos = raw.slos !== undefined;
  const window = raw.window ?? (withSlos ? undefined : '30d');
  if (window !== '28d' && window !== '30d') issues.push(`window: must be 28d or 30d, got ${JSON.stringify(window)}`);
  const slos: ServiceSlo[] = [];
  if (withSlos && (!Array.isArray(raw.slos) || raw.slos.length === 0)) issues.push('slos: must be a non-empty list (leave it out for a config without SLOs)');
  else if (Array.isArray(raw.slos)) {
    raw.slos.forEach((entry: unknown, i: number) => {
      const path = `slos[${i}]`;
      if (!isRecord(entry)) {
        issues.push(`${path}: must be a mapping`);
        return;
      }
      checkKeys(entry, path, ['id', 'service', 'model', 'route', 'ttft', 'completion'], issues);
      const service = optionalString(entry, 'service', path, issues);
      if (service === undefined && entry.service === undefined) issues.push(`${path}.service: required`);
      const model = optionalString(entry, 'model', path, issues);
      const route = optionalString(entry, 'route', path, issues);
      // Grafana expands `$VAR` in provisioned labels and the plugin `$__macros` in query text, quoted or not.
      for (const [key, value] of Object.entries({ service, model, route })) {
        if (value?.includes('$')) issues.push(`${path}.${key}: must not contain "$" (Grafana would expand it in the rules' labels and queries), got ${JSON.stringify(value)}`);
      }
      const id = optionalString(entry, 'id', path, issues) ?? slug([service, model, route]);
      if (!/^[a-z0-9][a-z0-9-]{0,27}$/.test(id)) {
        issues.push(`${path}.id: must be 1–28 characters of [a-z0-9-] (it is derived from service/model/route when absent), got ${JSON.stringify(id)}`);
      }
      if (slos.some((s) => s.id === id)) issues.push(`${path}.id: duplicate SLO id ${JSON.stringify(id)}`);
      const slo: ServiceSlo = {
        id,
        service: service ?? '',
        ttft: objective(entry.ttft, `${path}.ttft`, issues),
        completion: objective(entry.completion, `${path}.completion`, issues),
      };
      if (model !== undefined) slo.model = model;
      if (route !== undefined) slo.route = route;
      slos.push(slo);
    });
  }
  if (issues.length > 0) throw new SloConfigError(source, issues);
  return { window: window as SloConfig['window'], database, ...(runbookUrl !== undefined ? { runbookUrl } : {}), slos, ...(file !== undefined ? { source: file } : {}), prices: mergePrices(PRICE_TABLE, prices) };
}

export function parseSloConfig(text: string, file?: string): SloConfig {
  return validateSloConfig(parse(text), file);
}

export async function loadSloConfig(path: string): Promise<SloConfig> {
  return parseSloConfig(await readFile(path, 'utf8'), path);
}
