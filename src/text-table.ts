// The table and verdict lines every `launcher status` prints, whichever mode: plain text, aligned columns.

/** Columns padded to their widest cell, two spaces apart (shared by both modes' status). */
export function tableLines(head: string[], cells: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map(line)];
}

/** The verdict in one sentence, then every further problem. */
export function verdictLines(st: { verdict: string; problems: string[] }, healthy: string): string[] {
  if (st.verdict === 'healthy') return [`verdict: healthy (${healthy})`];
  return [`verdict: ${st.verdict}: ${st.problems[0]}`, ...st.problems.slice(1).map((p) => `  also: ${p}`)];
}
