/**
 * The `json` blocks of README.md and docs/*.md can be copied: each is valid JSON, or object members to paste inside
 * the config's top-level { } (no comments, no "..."). JSON has no comments, and the loader refuses
 * a config that has them, so an example with "//" would be refused as soon as it is pasted.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './helpers/invalid-configs';

const DOCUMENTS = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (file: string): string => readFileSync(join(REPO_ROOT, file), 'utf8');

/** [line number, block text] of every fenced block tagged `json`, indentation removed. */
function jsonBlocks(markdown: string): [number, string][] {
  const blocks: [number, string][] = [];
  for (const m of markdown.matchAll(/^( *)```json\n([\s\S]*?)^\1```/gm)) {
    const line = markdown.slice(0, m.index).split('\n').length;
    blocks.push([line, m[2].split('\n').map((l) => l.slice(m[1].length)).join('\n')]);
  }
  return blocks;
}

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

test('the documents have json examples (so the check below checks something)', () => {
  expect(DOCUMENTS).toEqual(expect.arrayContaining(['README.md', 'docs/configuration.md', 'docs/two-organizations.md']));
  expect(DOCUMENTS.flatMap((file) => jsonBlocks(read(file))).length).toBeGreaterThanOrEqual(5);
  expect(jsonBlocks('```json\n{"a": 1} // no\n```\n')).toEqual([[1, '{"a": 1} // no\n']]);
});

const BLOCKS: [string, number, string][] = DOCUMENTS.flatMap((file) => jsonBlocks(read(file)).map(([line, text]): [string, number, string] => [file, line, text]));

test.each(BLOCKS)('the json block at %s line %i is JSON, or members of an object', (_, __, text) => {
  const members = text.trim().replace(/,$/, '');
  expect(parses(text) || parses(`{${members}}`)).toBe(true);
});

/** GitHub's anchor of a heading: lowercase, punctuation dropped, spaces as "-". */
const anchorOf = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

/** Headings outside fenced blocks, as anchors. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^ *```/.test(line)) fenced = !fenced;
    const m = /^#+ (.*)$/.exec(line);
    if (!fenced && m) out.add(anchorOf(m[1]));
  }
  return out;
}

const LINKS: [string, string][] = DOCUMENTS.flatMap((file) =>
  [...read(file).matchAll(/\]\(([^)\s]+)\)/g)].map((m): [string, string] => [file, m[1]]).filter(([, target]) => !/^[a-z]+:/.test(target)),
);

test('the documents link to each other (so the check below checks something)', () => {
  expect(LINKS).toEqual(expect.arrayContaining([['README.md', 'docs/testing.md#tests'], ['docs/configuration.md', 'configuration-reference.md']]));
  expect(anchors('# A `b`, c: d\n```\n# not a heading\n```\n')).toEqual(new Set(['a-b-c-d']));
});

test.each(LINKS)('%s links to %s, a file of the repository and a heading it has', (file, target) => {
  const [path, anchor] = target.split('#');
  const targetFile = path === '' ? file : join(dirname(file), path);
  expect(existsSync(join(REPO_ROOT, targetFile))).toBe(true);
  if (anchor !== undefined) expect(anchors(read(targetFile))).toContain(anchor);
});
