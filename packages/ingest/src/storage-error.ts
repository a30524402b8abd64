// Why an insert failed: because of the rows it carried (retrying them apart isolates the bad ones),
// or because storage cannot take inserts now (everyone should back off). Errors from ClickHouse
// (server over HTTP or embedded chDB) carry its error name in `type`; the names below were each
// triggered against chDB 26.7 by storage-error.test.ts.

/**
 * Errors ClickHouse raises while parsing an INSERT's data, before anything is written: a failed
 * insert with one of these stored nothing (verified for one block and for parallel parsing of
 * 120 MB), so its rows can be retried apart without being stored twice.
 */
const DATA_ERRORS = new Set([
  'CANNOT_PARSE_ESCAPE_SEQUENCE', // a lone UTF-16 high surrogate in JSON text ("\ud83d")
  'DECIMAL_OVERFLOW', // a DateTime64(9) after 2262-04-11
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'ARGUMENT_OUT_OF_BOUND',
  'INCORRECT_DATA',
  'TOO_LARGE_STRING_SIZE',
]);

// Not here on purpose: an error raised inside a materialized view (e.g. CANNOT_CONVERT_TYPE, which
// llm_calls_mv raised for 'inf' before migration 5) comes after otel_traces has stored the rows, so
// retrying them apart would store them twice; it counts as unavailability.

/** ClickHouse error text for an insert spanning more partitions than max_partitions_per_insert_block. */
const TOO_MANY_PARTITIONS = /too many partitions for single insert block/i;

export type InsertFailure =
  /** The rows: split them and retry apart. `partitions` when only their spread of days is the problem. */
  | { kind: 'data'; partitions: boolean; message: string }
  /**
   * Storage: connection, missing table, timeout, overload, anything unknown. `reason` is what a
   * client may be told (ClickHouse's error name or the connection's error code); `message`, with
   * ClickHouse's text (which may quote the query, and another client's values), is for the log.
   */
  | { kind: 'unavailable'; message: string; reason: string };

function clickHouseType(err: unknown): string | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof err === 'object' && typeof type === 'string' ? type : undefined;
}

/** ClickHouse's first sentence and the column it was reading, without hints and pipeline trailers. */
function shortMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const first = text.split('\n')[0]!;
  const sentence = /^(.*?)(?:\. |: \(|: While executing|$)/.exec(first)![1]!.replace(/:\s*$/, '');
  const column = /\(while reading the value of key ([^)]+)\)/.exec(text)?.[1];
  return column ? `${sentence} (column ${column})` : sentence;
}

/**
 * Classifies an insert error. Unknown errors count as unavailability: refusing healthy spans as
 * bad data would make exporters drop them, while a 503 only delays them.
 */
export function classifyInsertError(err: unknown): InsertFailure {
  const type = clickHouseType(err);
  const message = shortMessage(err);
  const named = type ? `${message} (${type})` : message;
  if (type === undefined) return { kind: 'unavailable', message: named, reason: errorCode(err) ?? (/time(d )?out/i.test(message) ? 'timeout' : 'unreachable') };
  // TOO_MANY_PARTS is also "too many parts, merges are slower than inserts": overload, not data.
  if (type === 'TOO_MANY_PARTS' && TOO_MANY_PARTITIONS.test(message)) return { kind: 'data', partitions: true, message: named };
  if (type.startsWith('CANNOT_PARSE_') || DATA_ERRORS.has(type)) return { kind: 'data', partitions: false, message: named };
  return { kind: 'unavailable', message: named, reason: type };
}

/** A connection failure's code (`ECONNREFUSED`, `UND_ERR_SOCKET`), here or on its cause. */
function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  }
  return undefined;
}
