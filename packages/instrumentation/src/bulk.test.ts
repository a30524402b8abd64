import { describe, expect, it } from 'vitest';
import { BulkSkimmer, SseBulkFilter, withoutBulk } from './bulk.ts';

const base64 = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');

/** `text` fed to a skimmer (or an SSE filter) in pieces of `size` bytes; what it kept, as text. */
function skim(text: string, size: number, Filter: typeof BulkSkimmer | typeof SseBulkFilter = BulkSkimmer): string {
  const kept: Buffer[] = [];
  const skimmer = new Filter((b) => kept.push(Buffer.from(b)));
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) skimmer.push(bytes.subarray(i, i + size));
  return Buffer.concat(kept).toString('utf8');
}

describe('BulkSkimmer', () => {
  const body = {
    candidates: [
      {
        index: 0,
        content: { parts: [{ text: 'say "data": \\ "x" é ✓', thoughtSignature: base64(3000) }, { inlineData: { mimeType: 'image/png', data: base64(20_000) } }] },
        finishReason: 'STOP',
      },
    ],
    // A long value of another key stays; a short value of a bulk key stays; so does a bulk key's name in a list.
    note: 'n'.repeat(5000),
    data: 'short',
    list: ['data', base64(2000)],
    args: { data: { nested: true } },
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 1290 },
    responseId: 'r-1',
  };
  const expected = {
    ...body,
    candidates: [{ ...body.candidates[0]!, content: { parts: [{ text: 'say "data": \\ "x" é ✓', thoughtSignature: '' }, { inlineData: { mimeType: 'image/png', data: '' } }] } }],
  };

  it('empties the long values of bulk keys only, whatever the pieces the bytes arrive in', () => {
    const text = JSON.stringify(body);
    for (const size of [1, 2, 3, 7, 64, 1000, 4096, text.length]) expect(JSON.parse(skim(text, size)), `pieces of ${size}`).toEqual(expected);
    expect(JSON.parse(withoutBulk(Buffer.from(JSON.stringify(body, null, 2))).toString())).toEqual(expected);
  });

  it('hands a payload in which no bulk key is named back as it is', () => {
    const bytes = Buffer.from(JSON.stringify({ ...body, candidates: [], data: undefined, list: [], args: {}, note: 'datas "Data" signatures' }));
    expect(withoutBulk(bytes)).toBe(bytes);
  });

  it('keeps SSE framing, and a line break ends a string left open by malformed bytes', () => {
    const events = `data: ${JSON.stringify(body)}\r\n\r\ndata: {"broken":"abc\n\ndata: {"inlineData":{"data":"${base64(5000)}"}}\n\n`;
    for (const Filter of [BulkSkimmer, SseBulkFilter]) {
      for (const size of [1, 5, 13, 700, 5000, events.length]) {
        const lines = skim(events, size, Filter).split(/\r?\n\r?\n/);
        expect(JSON.parse(lines[0]!.slice(6))).toEqual(expected);
        expect(lines[1]).toBe('data: {"broken":"abc');
        expect(JSON.parse(lines[2]!.slice(6))).toEqual({ inlineData: { data: '' } });
      }
    }
  });

  it('hands short SSE lines on as they are, in whole runs', () => {
    const events = `event: a\ndata: {"data":"${'x'.repeat(900)}","signature":"s"}\r\n\r\n: comment "quoted\ndata: [DONE]\n\n`;
    const handed: Buffer[] = [];
    const filter = new SseBulkFilter((b) => handed.push(b));
    const bytes = Buffer.from(events);
    filter.push(bytes.subarray(0, 40));
    filter.push(bytes.subarray(40));
    expect(Buffer.concat(handed).toString()).toBe(events);
    // The first piece ends inside a line: held until its line break, then the rest goes in one run.
    expect(handed.length).toBeLessThanOrEqual(4);
  });

  it('skims megabytes of base64 in a fraction of what decoding and parsing them takes', () => {
    const bytes = Buffer.from(`data: ${JSON.stringify({ candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data: base64(6 * 1024 * 1024) } }] } }], responseId: 'r' })}\r\n\r\n`);
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 65536) pieces.push(bytes.subarray(i, i + 65536));
    const median = (fn: () => unknown): number => {
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        fn();
        runs.push(performance.now() - t);
      }
      return runs.sort((a, b) => a - b)[2]!;
    };
    const skimmed = median(() => {
      const s = new BulkSkimmer(() => {});
      for (const p of pieces) s.push(p);
    });
    const decoded = median(() => {
      const d = new TextDecoder();
      const text = pieces.map((p) => d.decode(p, { stream: true })).join('');
      JSON.parse(text.slice(6));
    });
    console.log(`8 MiB event in 64 KiB pieces: skimmed in ${skimmed.toFixed(2)} ms; decoded and parsed in ${decoded.toFixed(2)} ms`);
    expect(skimmed).toBeLessThan(decoded / 2);
  });
});
