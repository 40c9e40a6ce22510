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

/** A two-column Markdown table. */
export function table(header: [string, string], rows: readonly [string, string][]): string {
  return [
    `| ${cell(header[0])} | ${cell(header[1])} |`,
    '| --- | --- |',
    ...rows.map(([key, value]) => `| ${cell(key)} | ${cell(value)} |`),
  ].join('\n');
}
