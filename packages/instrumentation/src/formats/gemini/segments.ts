/**
 * Gemini's cacheable prompt prefix (generateContent): tools → system instruction → contents, with
 * no markers; implicit caching makes the whole prompt a candidate prefix.
 */
import type { GenerateContentParameters } from '@google/genai';
import { prefixSegment, type PrefixSegment } from '../../cache/index.ts';
import { isObject, type Json } from '../common.ts';

const NO_MARKERS: ReadonlySet<string> = new Set();

/** The SDK's own normalisation (tContent): a part or part list becomes one user Content. */
function content(value: unknown): unknown {
  if (isObject(value) && Array.isArray(value.parts)) return value;
  const parts = (Array.isArray(value) ? value : [value]).map((part: unknown) => (typeof part === 'string' ? { text: part } : part));
  return { role: 'user', parts };
}

/** The SDK's tContents: a list of Contents stays as is; a list of parts is one user Content. */
function contents(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value) && value.length > 0 && isObject(value[0]) && Array.isArray(value[0].parts)) return value;
  return [content(value)];
}

export function generateContentSegments(params: Json): PrefixSegment[] {
  const p = params as Partial<GenerateContentParameters>;
  const segs: PrefixSegment[] = [];
  const config = p.config ?? {};
  if (Array.isArray(config.tools) && config.tools.length > 0) segs.push(prefixSegment('tools', config.tools, NO_MARKERS));
  if (config.systemInstruction !== undefined) segs.push(prefixSegment('system', content(config.systemInstruction), NO_MARKERS));
  contents(p.contents).forEach((c, i) => segs.push(prefixSegment('message', c, NO_MARKERS, i)));
  // Implicit caching: the whole prompt is a candidate prefix.
  const last = segs.at(-1);
  if (last) last.breakpoint = true;
  return segs;
}
