import { describe, expect, it } from 'vitest';
import { ALL, expandMacros } from './macros.ts';

// 2026-11-20T10:00:00.250Z → 11:00:00.750Z
const from = Date.UTC(2026, 10, 20, 10, 0, 0, 250);
const to = Date.UTC(2026, 10, 20, 11, 0, 0, 750);
const ctx = { from, to, intervalMs: 30_000 };

describe('expandMacros', () => {
  it('expands time filters and bounds to whole seconds or milliseconds, as the plugin backend does', () => {
    expect(expandMacros('WHERE $__timeFilter(Timestamp)', ctx)).toBe(
      'WHERE Timestamp >= toDateTime(1795168800) AND Timestamp <= toDateTime(1795172400)',
    );
    expect(expandMacros('WHERE $__timeFilter_ms(ts)', ctx)).toBe(
      'WHERE ts >= fromUnixTimestamp64Milli(1795168800250) AND ts <= fromUnixTimestamp64Milli(1795172400750)',
    );
    expect(expandMacros('$__fromTime $__toTime $__fromTime_ms $__toTime_ms', ctx)).toBe(
      'toDateTime(1795168800) toDateTime(1795172400) fromUnixTimestamp64Milli(1795168800250) fromUnixTimestamp64Milli(1795172400750)',
    );
  });

  it('expands intervals, never below one second / millisecond', () => {
    expect(expandMacros('$__timeInterval(Timestamp) $__interval_s', ctx)).toBe(
      'toStartOfInterval(toDateTime(Timestamp), INTERVAL 30 second) 30',
    );
    expect(expandMacros('$__timeInterval_ms(t)', { ...ctx, intervalMs: 250 })).toBe('toStartOfInterval(toDateTime64(t, 3), INTERVAL 250 millisecond)');
    expect(expandMacros('$__timeInterval(t) $__interval_s', { ...ctx, intervalMs: 250 })).toBe(
      'toStartOfInterval(toDateTime(t), INTERVAL 1 second) 1',
    );
  });

  it('keeps nested parentheses inside macro arguments', () => {
    expect(expandMacros('$__timeFilter(toDateTime(x, \'UTC\'))', ctx)).toBe(
      "toDateTime(x, 'UTC') >= toDateTime(1795168800) AND toDateTime(x, 'UTC') <= toDateTime(1795172400)",
    );
  });

  it('drops a $__conditionalAll condition when All is selected and interpolates multi-value variables as a quoted list', () => {
    const sql = 'WHERE $__conditionalAll(ServiceName IN (${service}), $service) AND $__conditionalAll(Model IN ($model), $model)';
    // The plugin's own format quotes each value and escapes nothing.
    expect(expandMacros(sql, { ...ctx, vars: { service: ALL, model: ['gpt-4o', "o'brien"] } })).toBe(
      "WHERE 1=1 AND Model IN ('gpt-4o','o'brien')",
    );
    expect(expandMacros(sql, { ...ctx, vars: { service: ['a'], model: [ALL] } })).toBe("WHERE ServiceName IN ('a') AND 1=1");
  });

  it('formats ${var:queryparam} as Grafana does: var-name=value for each value, URL-encoded, @ : $ , ; kept', () => {
    const sql = "WHERE $__conditionalAll(Model IN '${model:queryparam}', $model)";
    expect(expandMacros(sql, { ...ctx, vars: { model: ['gpt-4o', "o'brien \\x", 'a,b@c:d$e;f!(g)*+%'] } })).toBe(
      "WHERE Model IN 'var-model=gpt-4o&var-model=o%27brien%20%5Cx&var-model=a,b@c:d$e;f%21%28g%29%2A%2B%25'",
    );
    expect(expandMacros("WITH '${trace_id:queryparam}' AS t", { ...ctx, vars: { trace_id: "ab'c" } })).toBe("WITH 'var-trace_id=ab%27c' AS t");
    expect(() => expandMacros('${model:csv}', { ...ctx, vars: { model: ['a'] } })).toThrow(/unsupported variable format/);
  });

  it('inserts single-value variables raw', () => {
    expect(expandMacros("WITH '${trace_id}' AS t", { ...ctx, vars: { trace_id: 'abc' } })).toBe("WITH 'abc' AS t");
  });

  it('rejects unknown macros, unknown variables and All outside $__conditionalAll', () => {
    expect(() => expandMacros('$__timeGroup(t)', ctx)).toThrow(/unsupported macro \$__timeGroup/);
    expect(() => expandMacros('x IN ($nope)', ctx)).toThrow(/unknown template variable \$nope/);
    expect(() => expandMacros('x IN ($service)', { ...ctx, vars: { service: ALL } })).toThrow(/outside \$__conditionalAll/);
    expect(() => expandMacros('$__conditionalAll(a)', ctx)).toThrow(/2 parameters/);
  });
});
