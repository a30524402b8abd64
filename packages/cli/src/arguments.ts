// Option parsers the commands share.
import { InvalidArgumentError } from 'commander';

/**
 * A whole number from `min` to `max`, written in decimal digits: `Number()` alone would take ''
 * as 0 (an unset `$PORT`: a random port), and `0x10`, `1e3`, ' 6 ' as numbers.
 */
export function wholeNumber(min: number, max: number, what = `an integer from ${min} to ${max}`) {
  return (value: string): number => {
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(parsed >= min && parsed <= max)) throw new InvalidArgumentError(`expected ${what}`);
    return parsed;
  };
}

/** A value that names something: an empty one (a variable set to '') would mean the current directory, a token nobody sends, or nothing. */
export function nonEmpty(what: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`expected ${what}, got an empty value`);
    return value;
  };
}

/**
 * A ClickHouse server's HTTP(S) URL. `localhost:8123` parses as a URL of scheme `localhost:`, and
 * would be refused only after a start-up message naming origin "null".
 */
export function httpUrl(value: string): string {
  nonEmpty('a URL')(value);
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:') throw new InvalidArgumentError('expected an http:// or https:// URL, such as http://localhost:8123');
  return value;
}
