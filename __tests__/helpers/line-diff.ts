/**
 * Which lines an edit touched: a longest-common-subsequence line diff, written for the tests so
 * that "every other byte of aspera.conf is unchanged" is checked without asking the editor under
 * test where it wrote. Quadratic: meant for files of a few hundred lines.
 */

/** A line is one line's bytes with its terminator ("\n" or "\r\n"), so line endings count too. */
export const splitLines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

export interface LineChanges {
  /** 0-based numbers of the lines of `before` that are not in the common subsequence. */
  readonly removed: number[];
  /** 0-based numbers of the lines of `after` that are not in the common subsequence. */
  readonly added: number[];
}

export function lineChanges(before: string, after: string): LineChanges {
  const a = splitLines(before);
  const b = splitLines(after);
  if (a.length * b.length > 4_000_000) throw new Error('lineChanges: files too large for a quadratic diff');
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const removed: number[] = [];
  const added: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) removed.push(i++);
    else added.push(j++);
  }
  while (i < a.length) removed.push(i++);
  while (j < b.length) added.push(j++);
  return { removed, added };
}

/**
 * Line ranges [first, last] (0-based, inclusive) of the <user>...</user> blocks of `text` whose
 * <name> is one of `users`, found by scanning lines: a block starts at a line holding "<user>"
 * and ends at the next line holding "</user>". Comments and CDATA are not looked into (a commented-out
 * stanza, or a stanza's text inside CDATA, is not a block).
 */
export function userBlocks(text: string, users: readonly string[]): Array<[number, number]> {
  const lines = splitLines(text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, (c) => c.replace(/[^\n]/g, ' ')));
  const blocks: Array<[number, number]> = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/<user>/.test(lines[i])) continue;
    let end = i;
    while (end < lines.length && !/<\/user>/.test(lines[end])) end++;
    const body = lines.slice(i, end + 1).join('');
    if (users.some((u) => new RegExp(`<name>\\s*${u.replace(/[.]/g, '\\.')}\\s*</name>`).test(body))) blocks.push([i, end]);
    i = end;
  }
  return blocks;
}
