/** Plain-text tables for the CLI: columns padded to their widest cell, numbers right-aligned. */

export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
}

/** Visible width of a string, ignoring ANSI colour codes. */
export function visibleWidth(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\x1b\[[0-9;]*m/g, "")].length;
}

function pad(s: string, width: number, right: boolean): string {
  const fill = " ".repeat(Math.max(0, width - visibleWidth(s)));
  return right ? fill + s : s + fill;
}

/**
 * Lines of a table: the header (passed through `styleHeader`), then one line per row, each
 * prefixed with `indent`. Trailing spaces are trimmed. A row of exactly two cells (in a table of
 * more columns) is a note: the first cell in its column, the second written after it as is.
 */
export function renderTable(columns: Column[], rows: string[][], opts: { indent?: string; styleHeader?: (s: string) => string } = {}): string[] {
  const indent = opts.indent ?? "  ";
  const style = opts.styleHeader ?? ((s: string) => s);
  // A row of two cells is a note: its first cell is a normal cell, the second runs on unpadded.
  const full = rows.filter((r) => r.length === columns.length);
  const widths = columns.map((c, i) => Math.max(visibleWidth(c.header), ...full.map((r) => visibleWidth(r[i] ?? ""))));
  const line = (cells: string[]) =>
    (cells.length === 2 && columns.length > 2
      ? `${indent}${pad(cells[0], widths[0], false)}  ${cells[1]}`
      : indent + cells.map((c, i) => pad(c, widths[i], columns[i].right === true)).join("  ")
    ).replace(/\s+$/, "");
  return [style(line(columns.map((c) => c.header))), ...rows.map(line)];
}
