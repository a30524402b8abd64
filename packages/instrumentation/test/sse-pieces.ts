// Test and benchmark helper: a recorded SSE body cut into its events, as a server sends them.

/** One SSE event per piece, each with its blank line (`\n\n` or `\r\n\r\n`, as Gemini sends). */
export function eventPieces(body: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  while (from < body.length) {
    const lf = body.indexOf('\n\n', from);
    const crlf = body.indexOf('\r\n\r\n', from);
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : body.length;
    pieces.push(body.subarray(from, end));
    from = end;
  }
  return pieces;
}
