/**
 * The bulk of a response body that no attribute needs — base64 images and audio, signatures —
 * dropped from the bytes (as they arrive, past a small body's size) before they are decoded to
 * text and parsed: a Gemini image answer carries megabytes of base64 in one event, and copying,
 * decoding and parsing them on the path that hands the bytes to the application would delay the
 * application and every arrival time measured after them.
 */

/** A string value longer than this, of one of BULK_KEYS, is bulk (so a line no longer holds none). */
export const BULK_VALUE = 1024;
/**
 * Keys whose long values no attribute reads: Gemini `inlineData.data` and `thoughtSignature`,
 * OpenAI `b64_json`, image generation `result` / `partial_image_b64`, audio `data`, Anthropic
 * `signature`, Responses `encrypted_content`.
 */
const BULK_KEYS: ReadonlySet<string> = new Set(['data', 'thoughtSignature', 'b64_json', 'result', 'partial_image_b64', 'signature', 'encrypted_content']);
const MAX_KEY = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Drops, from JSON bytes (a JSON body, or SSE lines of JSON) fed in any pieces, the string values
 * of BULK_KEYS longer than BULK_VALUE (`"data":"iVBOR…"` → `"data":""`). It jumps from quote to
 * quote (`indexOf`): no per-byte loop over the bulk, no copy of it, no decoding of it. What it
 * keeps is handed on as slices of the input, in order.
 */
export class BulkSkimmer {
  /** Inside a string (after its opening quote). */
  #inString = false;
  /** Backslashes ending the previous piece inside a string (an odd count escapes a quote that starts the next). */
  #backslashes = 0;
  /** Bytes of the current string so far. */
  #length = 0;
  /** The current string is the value of a bulk key: its first bytes wait in #pending until its length decides. */
  #candidate = false;
  #pending: Buffer[] = [];
  /** The current string is bulk: its bytes are dropped up to its closing quote. */
  #dropping = false;
  /** The bytes of the string just closed, if short enough to be a key. */
  #key: Buffer[] | undefined;
  #keyLength = 0;
  /** Outside strings since the last key: colons seen, and whether anything but whitespace and one colon came. */
  #colons = 0;
  #other = false;

  readonly #emit: (bytes: Buffer) => void;

  constructor(emit: (bytes: Buffer) => void) {
    this.#emit = emit;
  }

  push(bytes: Buffer): void {
    let pos = 0;
    let from = 0; // start of the bytes not yet emitted or dropped
    while (pos < bytes.length) {
      if (!this.#inString) {
        const open = bytes.indexOf(QUOTE, pos);
        const end = open < 0 ? bytes.length : open;
        this.#between(bytes, pos, end);
        if (open < 0) break;
        this.#candidate = this.#isBulkKey();
        this.#key = undefined;
        this.#inString = true;
        this.#length = 0;
        this.#backslashes = 0;
        pos = open + 1;
        if (this.#candidate) {
          this.#emit(bytes.subarray(from, pos));
          from = pos;
        }
        continue;
      }
      // Inside a string: to its closing quote, or to a line break (malformed: the string ends there).
      let close = bytes.indexOf(QUOTE, pos);
      while (close >= 0 && this.#escaped(bytes, pos, close)) close = bytes.indexOf(QUOTE, close + 1);
      const lfIn = bytes.subarray(pos, close < 0 ? bytes.length : close).indexOf(LF);
      const broken = lfIn >= 0;
      const end = broken ? pos + lfIn : close < 0 ? bytes.length : close;
      this.#inside(bytes, pos, end, from);
      if (this.#candidate || this.#dropping) from = end;
      if (end === bytes.length) {
        this.#backslashes = trailingBackslashes(bytes, pos, end, this.#backslashes);
        break;
      }
      this.#closeString(broken);
      pos = broken ? end : end + 1;
    }
    if (!this.#candidate && !this.#dropping && from < bytes.length) this.#emit(bytes.subarray(from));
  }

  /** The quote at `i` is escaped: an odd number of backslashes before it (counting those ending the previous piece). */
  #escaped(bytes: Buffer, start: number, i: number): boolean {
    let n = 0;
    while (i - 1 - n >= start && bytes[i - 1 - n] === BACKSLASH) n++;
    if (i - n === start) n += this.#backslashes;
    return n % 2 === 1;
  }

  /** String bytes [start, end): counted; a bulk candidate's are held until its length decides, a bulk string's dropped. */
  #inside(bytes: Buffer, start: number, end: number, from: number): void {
    this.#length += end - start;
    if (this.#length <= MAX_KEY) (this.#key ??= []).push(bytes.subarray(start, end));
    else this.#key = undefined;
    if (this.#dropping || !this.#candidate) return;
    if (this.#length > BULK_VALUE) {
      this.#pending = [];
      this.#candidate = false;
      this.#dropping = true;
    } else {
      this.#pending.push(bytes.subarray(Math.max(from, start), end));
    }
  }

  #closeString(broken: boolean): void {
    if (this.#candidate) for (const held of this.#pending) this.#emit(held);
    this.#pending = [];
    this.#candidate = false;
    this.#dropping = false;
    this.#inString = false;
    this.#keyLength = broken ? 0 : this.#length;
    if (broken || this.#length > MAX_KEY) this.#key = undefined;
    else this.#key ??= [];
    this.#colons = 0;
    this.#other = false;
  }

  /** Bytes between strings: after a key, only whitespace and one colon may come before its value. */
  #between(bytes: Buffer, start: number, end: number): void {
    if (this.#key === undefined) return;
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      if (b === COLON) this.#colons++;
      else if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) {
        this.#other = true;
        this.#key = undefined;
        return;
      }
    }
  }

  #isBulkKey(): boolean {
    if (this.#key === undefined || this.#other || this.#colons !== 1 || this.#keyLength > MAX_KEY) return false;
    return BULK_KEYS.has(Buffer.concat(this.#key).toString('latin1'));
  }
}

function trailingBackslashes(bytes: Buffer, start: number, end: number, before: number): number {
  let n = 0;
  while (end - 1 - n >= start && bytes[end - 1 - n] === BACKSLASH) n++;
  return end - n === start ? n + before : n;
}

/**
 * SSE bytes without their bulk, at the cost of a search for line breaks on ordinary streams: JSON
 * strings never span lines, so a line no longer than BULK_VALUE holds no bulk and is handed on as
 * it is (whole runs of such lines at once); a longer one goes through a BulkSkimmer of its own.
 * A line still arriving is held (sliced, not copied) until it ends or outgrows BULK_VALUE; bytes
 * without a line break cannot end an event, so holding them delays nothing.
 */
export class SseBulkFilter {
  readonly #emit: (bytes: Buffer) => void;
  /** The start of the current line, held while it may still be short. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** The current line is long: its bytes go through this skimmer until its line break. */
  #long: BulkSkimmer | undefined;

  constructor(emit: (bytes: Buffer) => void) {
    this.#emit = emit;
  }

  push(bytes: Buffer): void {
    let lf = bytes.indexOf(LF);
    let cr = bytes.indexOf(CR);
    let pos = 0;
    let run = 0; // bytes[run, pos) are whole short lines not yet handed on
    while (pos < bytes.length) {
      if (lf >= 0 && lf < pos) lf = bytes.indexOf(LF, pos);
      if (cr >= 0 && cr < pos) cr = bytes.indexOf(CR, pos);
      const br = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      const end = br < 0 ? bytes.length : br + 1;
      if (this.#long) {
        this.#long.push(bytes.subarray(pos, end));
        if (br >= 0) this.#long = undefined;
        pos = run = end;
        continue;
      }
      const length = this.#heldBytes + (end - pos);
      if (br >= 0 && length <= BULK_VALUE) {
        this.#release();
        pos = end;
        continue;
      }
      if (run < pos) this.#emit(bytes.subarray(run, pos));
      if (length > BULK_VALUE) {
        const skimmer = new BulkSkimmer(this.#emit);
        for (const held of this.#held) skimmer.push(held);
        this.#held = [];
        this.#heldBytes = 0;
        skimmer.push(bytes.subarray(pos, end));
        if (br < 0) this.#long = skimmer;
      } else {
        this.#held.push(bytes.subarray(pos, end));
        this.#heldBytes += end - pos;
      }
      pos = run = end;
    }
    if (run < pos) this.#emit(bytes.subarray(run, pos));
  }

  /** The held start of a line that turned out short: handed on as it is. */
  #release(): void {
    for (const held of this.#held) this.#emit(held);
    this.#held = [];
    this.#heldBytes = 0;
  }
}

/** Each bulk key as its bytes in JSON, quotes included: a bulk string follows one of them. */
const QUOTED_BULK_KEYS = [...BULK_KEYS].map((key) => Buffer.from(`"${key}"`, 'latin1'));

/**
 * `bytes` (one whole JSON payload) without its bulk; the same buffer when no bulk key's name occurs
 * in it (a native search each, no skimming: an ordinary answer).
 */
export function withoutBulk(bytes: Buffer): Buffer {
  if (!QUOTED_BULK_KEYS.some((key) => bytes.includes(key))) return bytes;
  const kept: Buffer[] = [];
  new BulkSkimmer((b) => kept.push(b)).push(bytes);
  return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
}
