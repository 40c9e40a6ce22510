/**
 * Markdown building blocks. Config values are validated to narrow character sets, but the report
 * does not rely on that: every value goes into a code span that its content cannot close, and
 * table cells escape "|" so a value cannot add a column.
 */

/** `value` as a Markdown code span, whatever backticks it contains. */
export function code(value: string): string {
  const longestRun = Math.max(0, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longestRun + 1);
  // A space inside the fence keeps a value that starts or ends with "`" from merging with it.
  const pad = longestRun > 0 ? ' ' : '';
  return `${fence}${pad}${value.replace(/\r?\n/g, ' ')}${pad}${fence}`;
}

/** "a, b, c". */
export const list = (items: readonly string[]): string => (items.length === 0 ? '(none)' : items.join(', '));

/** A value safe inside a Markdown table cell ("|" would start a new column, even inside code spans). */
export const cell = (value: string): string => value.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');

/** A Markdown table; every row has the header's number of cells. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${' --- |'.repeat(header.length)}`, ...rows.map(line)].join('\n');
}
