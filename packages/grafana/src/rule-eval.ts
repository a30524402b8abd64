// Grafana's side of an alert rule, outside Grafana: the ClickHouse queries run with the plugin's
// macros expanded for the evaluation time, each one-row result reduced to its number, the math
// expression over those numbers, and the Normal → Pending → Alerting state with `for`. The query
// tests and `llm-prism slo drill` evaluate the generated rules with it.
import type { AlertRule } from './alerts.ts';
import { expandMacros } from './macros.ts';

/**
 * Evaluates a Grafana math expression over numbers: $refs, numbers, comparisons and && / ||,
 * which yield 1 or 0 as in Grafana's server-side expressions.
 */
export function evaluateMath(expression: string, values: Record<string, number>): number {
  const tokens = expression.match(/\$[A-Za-z]\w*|\d+(?:\.\d+)?|&&|\|\||>=|<=|==|!=|[()<>]/g) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, '')) throw new Error(`unsupported math expression: ${expression}`);
  let at = 0;
  const peek = () => tokens[at];
  const take = () => tokens[at++] as string;
  const primary = (): number => {
    const t = take();
    if (t === '(') {
      const v = or();
      if (take() !== ')') throw new Error('expected )');
      return v;
    }
    if (t.startsWith('$')) {
      const v = values[t.slice(1)];
      if (v === undefined) throw new Error(`no value for ${t}`);
      return v;
    }
    return Number(t);
  };
  const comparison = (): number => {
    const left = primary();
    const op = peek();
    if (op !== undefined && ['>', '<', '>=', '<=', '==', '!='].includes(op)) {
      take();
      const right = primary();
      const r = { '>': left > right, '<': left < right, '>=': left >= right, '<=': left <= right, '==': left === right, '!=': left !== right }[op];
      return r ? 1 : 0;
    }
    return left;
  };
  const and = (): number => {
    let v = comparison();
    while (peek() === '&&') {
      take();
      const r = comparison();
      v = v !== 0 && r !== 0 ? 1 : 0;
    }
    return v;
  };
  const or = (): number => {
    let v = and();
    while (peek() === '||') {
      take();
      const r = and();
      v = v !== 0 || r !== 0 ? 1 : 0;
    }
    return v;
  };
  const result = or();
  if (at !== tokens.length) throw new Error(`trailing tokens in ${expression}`);
  return result;
}

/** Runs SQL and returns its rows (a ClickHouse client, chDB, …). */
export type RunQuery = (sql: string) => Promise<Record<string, unknown>[]>;

export interface RuleEvaluation {
  /** The number each data query reduced to, by refId. */
  values: Record<string, number>;
  /** The condition expression's value: non-zero means the condition holds. */
  condition: number;
}

/**
 * One evaluation of a rule at `atMs`: every data query over [at − relativeTimeRange.from, at]
 * with the plugin's macros ($__toTime = at), then the math expression. Grafana turns a table
 * result of one row and one numeric column into a number; anything else is an error here.
 */
export async function evaluateRule(rule: AlertRule, atMs: number, run: RunQuery): Promise<RuleEvaluation> {
  const values: Record<string, number> = {};
  let expression: string | undefined;
  for (const q of rule.data) {
    const model = q.model;
    if ('expression' in model) {
      if (q.refId !== rule.condition) throw new Error(`${rule.uid}: expression ${q.refId} is not the condition ${rule.condition}`);
      expression = model.expression;
      continue;
    }
    const rows = await run(expandMacros(model.rawSql, { from: atMs - q.relativeTimeRange.from * 1000, to: atMs - q.relativeTimeRange.to * 1000, intervalMs: model.intervalMs }));
    const cells = rows.length === 1 ? Object.values(rows[0] as object) : [];
    if (cells.length !== 1 || !Number.isFinite(Number(cells[0]))) {
      throw new Error(`${rule.uid}: query ${q.refId} must return one row with one number, got ${JSON.stringify(rows)}`);
    }
    values[q.refId] = Number(cells[0]);
  }
  if (expression === undefined) throw new Error(`${rule.uid}: no condition expression ${rule.condition}`);
  return { values, condition: evaluateMath(expression, values) };
}

export type AlertState = 'Normal' | 'Pending' | 'Alerting';

/** Parses a rule's `for` ("1m", "15m", "90s", "0s"). */
export function forMs(duration: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(duration);
  if (m === null) throw new Error(`unsupported for duration ${duration}`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

/**
 * Grafana's state after an evaluation at `atMs`: a holding condition makes a Normal rule Pending
 * (Alerting at once when `for` is 0) and a Pending rule Alerting once it has been pending for
 * `for`; a condition that does not hold returns the rule to Normal.
 */
export function nextState(
  state: { state: AlertState; since: number },
  holds: boolean,
  atMs: number,
  forDurationMs: number,
): { state: AlertState; since: number } {
  if (!holds) return state.state === 'Normal' ? state : { state: 'Normal', since: atMs };
  if (state.state === 'Alerting') return state;
  if (state.state === 'Normal') return forDurationMs === 0 ? { state: 'Alerting', since: atMs } : { state: 'Pending', since: atMs };
  return atMs - state.since >= forDurationMs ? { state: 'Alerting', since: atMs } : state;
}
