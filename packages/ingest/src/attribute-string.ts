// Attribute values as text, the way the Collector's ClickHouse exporter stores them: pdata
// `Value.AsString()`. Scalars print plainly; arrays and maps are Go `json.Marshal` of `AsRaw()`.
// Keys and text are made well-formed (a lone UTF-16 surrogate becomes U+FFFD, as a Go string of
// the same bytes would print): ClickHouse refuses a lone surrogate in a JSONEachRow insert.
import type { OtlpAnyValue, OtlpKeyValue } from './types.ts';

/**
 * Deepest array / kvlist nesting accepted in one attribute value. Real attributes nest a few
 * levels; thousands would only exhaust the stack (and Grafana could not show them anyway).
 */
export const MAX_ATTRIBUTE_DEPTH = 64;

export class AttributeTooDeepError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`attribute ${JSON.stringify(key)} nests arrays/maps deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
    this.key = key;
  }
}

/** Go's strconv formatting in pdata's float64AsString: ES6 shortest round-trip, like JS String. */
export function doubleAsString(value: number): string {
  if (Number.isNaN(value)) return 'json: unsupported value: NaN';
  if (!Number.isFinite(value)) return `json: unsupported value: ${value > 0 ? '+Inf' : '-Inf'}`;
  return Object.is(value, -0) ? '-0' : String(value);
}

export function anyValueAsString(value: OtlpAnyValue | null | undefined, key = ''): string {
  if (!value) return '';
  if (value.stringValue !== undefined) return value.stringValue.toWellFormed();
  if (value.boolValue !== undefined) return value.boolValue ? 'true' : 'false';
  if (value.intValue !== undefined) return value.intValue;
  if (value.doubleValue !== undefined) return doubleAsString(value.doubleValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue !== undefined || value.kvlistValue !== undefined) return goJson(value, key, 1) ?? '';
  return '';
}

/** Go's json.Marshal escapes HTML-significant characters and the JS line separators. */
function goJsonString(text: string): string {
  return JSON.stringify(text.toWellFormed()).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** json.Marshal(value.AsRaw()): maps with sorted keys; undefined when Go would fail (NaN, ±Inf). */
function goJson(value: OtlpAnyValue | null | undefined, key: string, depth: number): string | undefined {
  if (!value) return 'null';
  if (value.stringValue !== undefined) return goJsonString(value.stringValue);
  if (value.boolValue !== undefined) return value.boolValue ? 'true' : 'false';
  if (value.intValue !== undefined) return value.intValue;
  if (value.doubleValue !== undefined) {
    if (!Number.isFinite(value.doubleValue)) return undefined;
    return Object.is(value.doubleValue, -0) ? '-0' : String(value.doubleValue);
  }
  if (value.bytesValue !== undefined) return goJsonString(value.bytesValue);
  if ((value.arrayValue !== undefined || value.kvlistValue !== undefined) && depth > MAX_ATTRIBUTE_DEPTH) {
    throw new AttributeTooDeepError(key);
  }
  if (value.arrayValue !== undefined) {
    const items = (value.arrayValue?.values ?? []).map((v) => goJson(v, key, depth + 1));
    return items.includes(undefined) ? undefined : `[${items.join(',')}]`;
  }
  if (value.kvlistValue !== undefined) {
    // A Go map keeps the last of duplicate keys; json.Marshal sorts keys by their bytes.
    const entries = new Map<string, OtlpAnyValue | null>();
    for (const kv of value.kvlistValue?.values ?? []) entries.set(kv.key, kv.value);
    const keys = [...entries.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const parts: string[] = [];
    for (const mapKey of keys) {
      const json = goJson(entries.get(mapKey), key, depth + 1);
      if (json === undefined) return undefined;
      parts.push(`${goJsonString(mapKey)}:${json}`);
    }
    return `{${parts.join(',')}}`;
  }
  return 'null';
}

/**
 * An OTLP attribute list as the exporter's Map(String, String); later duplicates win.
 * Throws AttributeTooDeepError for a value nested deeper than MAX_ATTRIBUTE_DEPTH.
 */
export function attributesToMap(attributes: OtlpKeyValue[] | null | undefined): Record<string, string> {
  // No prototype: an attribute named "__proto__" is kept like any other.
  const map = Object.create(null) as Record<string, string>;
  for (const kv of attributes ?? []) map[kv.key.toWellFormed()] = anyValueAsString(kv.value, kv.key);
  return map;
}
