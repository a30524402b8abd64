// Expands a panel's rawSql the way Grafana + grafana-clickhouse-datasource 4.x do before ClickHouse
// sees it, so tests can run the generated queries for real. Order as in the plugin: the frontend
// resolves $__conditionalAll, then Grafana interpolates template variables (multi-value ones as a
// quoted list), then the backend expands the $__ time macros (pkg/macros/macros.go).

/** The value Grafana gives a variable whose "All" option is selected. */
export const ALL = '$__all';

export interface MacroContext {
  /** Time range, epoch ms. */
  from: number;
  to: number;
  /** The panel's $__interval in ms. */
  intervalMs: number;
  /** Template variables: a string for a single-value variable (inserted raw), an array for a multi-value one, or ALL. */
  vars?: Record<string, string | string[]>;
}

/** Finds `name(` … matching `)` from `open` (index of the `(`); returns the top-level arguments and the end index. */
function macroArgs(sql: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = open + 1;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(sql.slice(start, i).trim());
        return { args, end: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(sql.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error(`unbalanced parentheses in macro call at ${open}: ${sql.slice(open - 20, open + 40)}`);
}

/**
 * Grafana's URL encoding of a variable's value (@grafana/data `toUrlParams`, which the scenes
 * variables' `queryparam` format uses): `encodeURIComponent`, with `@ : $ , ;` left as they are
 * and `! ' ( ) *` encoded too.
 */
const urlParamValue = (value: string): string =>
  encodeURIComponent(value)
    .replace(/%40/gi, '@')
    .replace(/%3A/gi, ':')
    .replace(/%24/g, '$')
    .replace(/%2C/gi, ',')
    .replace(/%3B/gi, ';')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * A variable's value as Grafana inserts it: with no format, the ClickHouse plugin's own (an array as
 * `'a','b'`, nothing escaped; a single value raw); `:queryparam`, Grafana's (`var-name=v1&var-name=v2`,
 * each value URL-encoded).
 */
function formatValue(value: string | string[], format: string | undefined, name: string): string {
  if (format === undefined) return Array.isArray(value) ? `'${value.join("','")}'` : value;
  if (format === 'queryparam') return (Array.isArray(value) ? value : [value]).map((v) => `var-${name}=${urlParamValue(v)}`).join('&');
  throw new Error(`unsupported variable format \${${name}:${format}}`);
}

function applyConditionalAll(sql: string, vars: Record<string, string | string[]>): string {
  const macro = '$__conditionalAll(';
  let at = sql.lastIndexOf(macro);
  while (at !== -1) {
    const { args, end } = macroArgs(sql, at + macro.length - 1);
    if (args.length !== 2) throw new Error('Macro $__conditionalAll should contain 2 parameters');
    const name = /^\$\{?(\w+)\}?$/.exec(args[1] ?? '')?.[1];
    if (name === undefined) throw new Error(`$__conditionalAll: second argument must be a variable, got ${args[1]}`);
    const value = vars[name];
    if (value === undefined) throw new Error(`$__conditionalAll: unknown variable $${name}`);
    // The plugin's test: the value as text is empty or `$__all` (so a selection of the one empty name is All too).
    const text = String(value);
    sql = sql.slice(0, at) + (text === '' || text === ALL ? '1=1' : (args[0] ?? '')) + sql.slice(end);
    at = sql.lastIndexOf(macro);
  }
  return sql;
}

function interpolateVariables(sql: string, vars: Record<string, string | string[]>): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)/g, (match, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = vars[name];
    if (value === undefined) throw new Error(`unknown template variable ${match}`);
    if (value === ALL || (Array.isArray(value) && value.includes(ALL))) {
      throw new Error(`variable ${match} is "All" outside $__conditionalAll; give its values instead`);
    }
    return formatValue(value, format, name);
  });
}

const dateTime = (ms: number) => `toDateTime(${Math.floor(ms / 1000)})`;
const dateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.floor(ms)})`;

function timeMacro(name: string, args: string[], ctx: MacroContext): string {
  const one = () => {
    if (args.length !== 1) throw new Error(`$__${name}: expected 1 argument, received ${args.length}`);
    return args[0] as string;
  };
  const seconds = Math.floor(Math.max(ctx.intervalMs / 1000, 1));
  switch (name) {
    case 'fromTime':
      return dateTime(ctx.from);
    case 'toTime':
      return dateTime(ctx.to);
    case 'fromTime_ms':
      return dateTime64(ctx.from);
    case 'toTime_ms':
      return dateTime64(ctx.to);
    case 'timeFilter': {
      const c = one();
      return `${c} >= ${dateTime(ctx.from)} AND ${c} <= ${dateTime(ctx.to)}`;
    }
    case 'timeFilter_ms': {
      const c = one();
      return `${c} >= ${dateTime64(ctx.from)} AND ${c} <= ${dateTime64(ctx.to)}`;
    }
    case 'timeInterval':
      return `toStartOfInterval(toDateTime(${one()}), INTERVAL ${seconds} second)`;
    case 'timeInterval_ms':
      return `toStartOfInterval(toDateTime64(${one()}, 3), INTERVAL ${Math.floor(Math.max(ctx.intervalMs, 1))} millisecond)`;
    case 'interval_s':
      return String(seconds);
    default:
      throw new Error(`unsupported macro $__${name}`);
  }
}

const TAKES_ARGS = new Set(['timeFilter', 'timeFilter_ms', 'timeInterval', 'timeInterval_ms']);

function expandTimeMacros(sql: string, ctx: MacroContext): string {
  let out = '';
  let i = 0;
  const re = /\$__(\w+)/g;
  for (let m = re.exec(sql); m !== null; m = re.exec(sql)) {
    const name = m[1] as string;
    out += sql.slice(i, m.index);
    let args: string[] = [];
    let end = m.index + m[0].length;
    if (TAKES_ARGS.has(name)) {
      if (sql[end] !== '(') throw new Error(`$__${name} needs an argument list`);
      ({ args, end } = macroArgs(sql, end));
    }
    out += timeMacro(name, args, ctx);
    i = end;
    re.lastIndex = end;
  }
  return out + sql.slice(i);
}

export function expandMacros(sql: string, ctx: MacroContext): string {
  const vars = ctx.vars ?? {};
  return expandTimeMacros(interpolateVariables(applyConditionalAll(sql, vars), vars), ctx);
}
