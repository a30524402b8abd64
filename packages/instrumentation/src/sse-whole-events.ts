/**
 * SSE framing read on the bytes of one network chunk, without decoding them: for the chunks that
 * hold whole events only (the previous chunk ended an event and this one ends with a blank line),
 * which is how a provider's stream usually arrives, one event per write. Then the chunk's data
 * payloads can be recognised where they lie (formats/scan.ts) and the chunk need not go through
 * the text decoder and the SSE parser. Anything less simple than `event:` and `data:` lines with
 * one line break style is left to the parser (the caller decodes the chunk).
 */

import type { SseEvent } from './internal-types.ts';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DATA = Buffer.from('data:');
const EVENT = Buffer.from('event:');

/** The chunk ends with a blank line (`\n\n` or `\r\n\r\n`): after it, the SSE parser holds nothing. */
export function endsWithBlankLine(bytes: Buffer): boolean {
  const n = bytes.length;
  if (n < 2 || bytes[n - 1] !== LF) return false;
  if (bytes[n - 2] === LF) return true;
  return n >= 4 && bytes[n - 2] === CR && bytes[n - 3] === LF && bytes[n - 4] === CR;
}

/** The line at `start` (ending at `end`) starts with `field` (its name and colon). Compared here: a native call costs more for so few bytes. */
function startsWithField(bytes: Buffer, start: number, end: number, field: Buffer): boolean {
  if (end - start < field.length) return false;
  for (let i = 0; i < field.length; i++) if (bytes[start + i] !== field[i]) return false;
  return true;
}

/** The value of a field line starting at `start` (after its name and colon, one leading space dropped, as the SSE parser reads it). */
const valueStart = (bytes: Buffer, start: number, end: number, field: Buffer): number =>
  bytes[start + field.length] === SPACE && start + field.length < end ? start + field.length + 1 : start + field.length;

/**
 * Calls `payload(start, end, eventStart, eventEnd)` for the data of each event of a chunk of whole
 * events (one `data:` line each, an optional `event:` line: its name at [eventStart, eventEnd),
 * eventStart -1 without one), in order, and stops at the first `false` it returns. Returns false
 * when the chunk is not that simple (or `payload` said false): the caller then decodes the chunk
 * instead. Line breaks are all `\n` or all `\r\n`.
 */
export function eachDataPayload(bytes: Buffer, payload: (start: number, end: number, eventStart: number, eventEnd: number) => boolean): boolean {
  if (!endsWithBlankLine(bytes)) return false;
  const crlf = bytes[bytes.length - 2] === CR;
  // One line break style throughout: a lone `\r` (a line break to the SSE parser) would be missed.
  if (!crlf && bytes.indexOf(CR) >= 0) return false;
  let pos = 0;
  let data = -1;
  let dataEnd = -1;
  let event = -1;
  let eventEnd = -1;
  while (pos < bytes.length) {
    let end: number;
    if (bytes[pos] === (crlf ? CR : LF)) {
      end = pos; // a blank line (CRLF: its LF checked below)
      if (crlf && bytes[pos + 1] !== LF) return false;
    } else if (crlf) {
      end = bytes.indexOf(CR, pos);
      if (end < 0 || bytes[end + 1] !== LF || bytes.indexOf(LF, pos) !== end + 1) return false;
    } else {
      end = bytes.indexOf(LF, pos);
    }
    if (end === pos) {
      // A blank line ends an event: one with data, else nothing simple.
      if (data < 0 || !payload(data, dataEnd, event, eventEnd)) return false;
      data = event = -1;
    } else if (startsWithField(bytes, pos, end, DATA)) {
      if (data >= 0) return false; // several data lines: joined by the parser
      data = valueStart(bytes, pos, end, DATA);
      dataEnd = end;
    } else if (startsWithField(bytes, pos, end, EVENT)) {
      event = valueStart(bytes, pos, end, EVENT); // the parser keeps the last one
      eventEnd = end;
    } else {
      return false;
    }
    pos = end + (crlf ? 2 : 1);
  }
  return data < 0;
}

/**
 * Where the data of a chunk that is one event alone begins (`data:` line, after an optional
 * `event:` line, `\n` line breaks), -1 otherwise: how a provider's stream usually arrives. Its
 * data runs to the chunk's last two bytes; the caller checks every byte of it (no line break in
 * it: formats/scan.ts `matchBytes`), which this does not, so a chunk of several events is told
 * apart there. No native call: for a chunk this short, one costs more than the loop.
 */
export function singleEventData(bytes: Buffer): number {
  const n = bytes.length;
  if (n < DATA.length + 2 || bytes[n - 1] !== LF || bytes[n - 2] !== LF) return -1;
  let line = 0;
  if (startsWithField(bytes, 0, n, EVENT)) {
    // The event line: its end, no lone CR before it (a line break to the SSE parser).
    let i = EVENT.length;
    while (i < n && bytes[i] !== LF && bytes[i] !== CR) i++;
    if (i >= n - 2 || bytes[i] !== LF) return -1;
    line = i + 1;
  }
  if (!startsWithField(bytes, line, n, DATA)) return -1;
  return valueStart(bytes, line, n - 2, DATA);
}

/**
 * The events of a chunk of whole events as `eachDataPayload` reads them, decoded, when none of its
 * lines is longer than `maxLine` bytes (with its field name and line break); undefined otherwise.
 * What the SSE parser would give for them (an empty event name is none).
 */
export function wholeEvents(bytes: Buffer, maxLine: number): SseEvent[] | undefined {
  const events: SseEvent[] = [];
  const fits = eachDataPayload(bytes, (start, end, eventStart, eventEnd) => {
    if (end - start + DATA.length + 3 > maxLine || (eventStart >= 0 && eventEnd - eventStart + EVENT.length + 3 > maxLine)) return false;
    const event = eventStart >= 0 && eventEnd > eventStart ? bytes.toString('utf8', eventStart, eventEnd) : undefined;
    events.push({ event, data: bytes.toString('utf8', start, end) });
    return true;
  });
  return fits ? events : undefined;
}
