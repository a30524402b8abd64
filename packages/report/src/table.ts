/** Plain-text table: left-aligned text columns, right-aligned numeric ones. */
export function table(header: string[], body: (string | number)[][], indent = '  '): string {
  const cells = [header, ...body.map((r) => r.map(String))];
  const numeric = header.map((_, i) => body.length > 0 && body.every((r) => typeof r[i] === 'number' || /^[-\d.,%× ]+$|^—$/.test(String(r[i]))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => indent + r.map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
