import { describe, expect, it } from 'vitest';
import type { AttemptListener } from './internal-types.ts';
import { RawHeaders, ResponseReader } from './response-reader.ts';

const base64 = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');

/** `body` read as a non-streamed JSON answer arriving in pieces of `size` bytes: the text the listener was given. */
function readBody(body: string, size: number): string | undefined {
  let text: string | undefined;
  const listener: AttemptListener = { headers() {}, sseEvent() {}, body: (t) => (text = t), end() {}, error() {} };
  const reader = new ResponseReader(listener);
  reader.headers(200, new RawHeaders(['content-type', 'application/json']), 0);
  const bytes = Buffer.from(body);
  for (let i = 0; i < bytes.length; i += size) reader.chunk(bytes.subarray(i, i + size), 1);
  reader.end(2);
  return text;
}

describe('a non-streamed body', () => {
  const usage = { prompt_tokens: 12, completion_tokens: 3 };

  it('reaches the listener whole when it holds no bulk', () => {
    const body = JSON.stringify({ id: 'c-1', choices: [{ message: { role: 'assistant', content: 'say "data": ✓' } }], usage });
    for (const size of [1, 7, body.length]) expect(readBody(body, size)).toBe(body);
  });

  it('loses its bulk, small or large, whatever the pieces it arrives in', () => {
    for (const bulk of [2_000, 3 * 1024 * 1024]) {
      const body = JSON.stringify({ created: 1, data: [{ b64_json: base64(bulk), revised_prompt: 'cats' }], usage });
      const expected = { created: 1, data: [{ b64_json: '', revised_prompt: 'cats' }], usage };
      // Pieces below and above the size kept unskimmed, and the whole body in one piece.
      for (const size of [7, 16 * 1024, 100 * 1024, body.length]) {
        if (size === 7 && bulk > 2_000) continue; // 3 MiB in 7-byte pieces: slow, and covered by bulk.test.ts
        expect(JSON.parse(readBody(body, size) ?? 'null'), `${bulk} bytes of bulk in pieces of ${size}`).toEqual(expected);
      }
    }
  });

  it('larger than the buffered limit in one piece, is skimmed before it is kept', () => {
    const body = JSON.stringify({ created: 1, data: [{ b64_json: base64(9 * 1024 * 1024) }], usage });
    expect(JSON.parse(readBody(body, body.length) ?? 'null')).toEqual({ created: 1, data: [{ b64_json: '' }], usage });
  });
});
