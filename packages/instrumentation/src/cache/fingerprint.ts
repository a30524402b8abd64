import { hash } from 'node:crypto';

/** Hex digits kept from sha256: 64 bits keep collisions negligible among the prefixes one process sees. */
export const HASH_HEX_DIGITS = 16;

/** The first HASH_HEX_DIGITS of the text's SHA-256 (one-shot `crypto.hash`: no Hash object per digest). */
export function digest(text: string): string {
  return hash('sha256', text, 'hex').slice(0, HASH_HEX_DIGITS);
}

export interface Fingerprint {
  hash: string;
  /** ceil(characters of string values / 4): a cheap estimate, used only against the cacheable minimum. */
  tokens: number;
}

/**
 * Hashes the canonical JSON of `content` (object keys sorted, `omitKeys` dropped at any depth) so
 * that key order and cache markers never change a fingerprint. The text itself is not kept.
 */
export function fingerprint(content: unknown, omitKeys: ReadonlySet<string>): Fingerprint {
  let chars = 0;
  const json = JSON.stringify(content, (key, value: unknown) => {
    if (omitKeys.has(key)) return undefined;
    if (typeof value === 'string') chars += value.length;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return value;
  }) as string | undefined;
  return { hash: digest(json ?? ''), tokens: Math.ceil(chars / 4) };
}
