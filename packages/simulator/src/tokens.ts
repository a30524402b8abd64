// Deterministic token counting (documented in README.md): any string is ceil(length / 4) tokens,
// any non-text value (a tool definition, an image part, tool input) counts its JSON text, and every
// message adds a fixed overhead. Output is made of 4-character words, so counts come out exact.

export const MESSAGE_OVERHEAD_TOKENS = 4;

export const TEXT_TOKEN = 'tok ';
export const THINKING_TOKEN = 'hmm ';

export function textTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function jsonTokens(value: unknown): number {
  return textTokens(JSON.stringify(value) ?? '');
}

/** Tokens of a content value: a string, or an array of parts where text parts count their text. */
export function contentTokens(content: unknown): number {
  if (typeof content === 'string') return textTokens(content);
  if (Array.isArray(content)) return content.reduce((sum: number, part) => sum + partTokens(part), 0);
  if (content == null) return 0;
  return jsonTokens(content);
}

function partTokens(part: unknown): number {
  if (typeof part === 'string') return textTokens(part);
  if (part && typeof part === 'object' && 'text' in part && typeof part.text === 'string') {
    return textTokens(part.text);
  }
  return jsonTokens(withoutCacheControl(part));
}

/** The JSON of a value without `cache_control` markers, which are not prompt content. */
export function withoutCacheControl(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'cache_control' ? undefined : v)) ?? 'null');
}
