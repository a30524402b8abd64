import { describe, expect, it } from 'vitest';
import { eventPieces, fromJson, keptChatStream, testRecordings, toJson } from './streams.ts';

describe('replayed streams', () => {
  it('cut one SSE event per piece, LF or CRLF framed, losing no byte', () => {
    const body = Buffer.from('data: {"a":1}\n\nevent: x\ndata: {"b":2}\r\n\r\ndata: [DONE]\n\n');
    const pieces = eventPieces(body);
    expect(pieces.map((p) => p.toString())).toEqual(['data: {"a":1}\n\n', 'event: x\ndata: {"b":2}\r\n\r\n', 'data: [DONE]\n\n']);
    expect(eventPieces(Buffer.from('data: 1\n\ndata: 2')).map(String)).toEqual(['data: 1\n\n', 'data: 2']);
  });

  it('keep the benchmark recording: 200 fragments, the finish, the usage and [DONE], and every test recording', () => {
    const kept = keptChatStream();
    expect(kept.chunks).toHaveLength(204);
    expect(Buffer.concat(kept.chunks).equals(kept.body)).toBe(true);
    expect(kept.chunks.at(-1)?.toString()).toBe('data: [DONE]\n\n');
    expect(fromJson(toJson(kept)).chunks.map(String)).toEqual(kept.chunks.map(String));
    const recordings = testRecordings();
    expect(recordings.length).toBeGreaterThanOrEqual(10);
    // Gemini frames its events with CRLF: more than one piece each.
    for (const r of recordings.filter((s) => s.provider === 'gemini')) expect(r.chunks.length, r.name).toBeGreaterThan(1);
  });
});
